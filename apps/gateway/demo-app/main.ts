/**
 * The browser demo served at /demo: sign in with a token, conversations with unread counts,
 * a timeline with sent / delivered / read marks (in a group, opening one of your messages asks
 * who has it and who read it), and the SDK's outbox, which survives going offline and
 * reloading the page (IndexedDB). Built with esbuild into dist/demo/app.js.
 */
import {
  ChatClient,
  ConversationSummary,
  IndexedDbOutboxStorage,
  Message,
  OutboxEntry,
} from '@im/client-sdk';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Marks {
  delivered: number;
  read: number;
}

class DemoApp {
  client?: ChatClient;
  conversations: ConversationSummary[] = [];
  active?: string;
  private selectedOnce = false;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  /** The highest seq another member has received / read, per conversation (from receipts). */
  readonly marks = new Map<string, Marks>();
  /** What `receipts` answered for an opened group message, by conversation and seq. */
  private readonly opened = new Map<string, string>();
  /** "Go offline" survives a reload, so that the outbox can be seen surviving both. */
  get offline(): boolean {
    return localStorage.getItem('demo.offline') === '1';
  }

  start() {
    const token = localStorage.getItem('demo.token');
    const device = localStorage.getItem('demo.device') ?? `web-${Math.random().toString(36).slice(2, 8)}`;
    $<HTMLInputElement>('device').value = device;
    $('signin').addEventListener('submit', (e) => {
      e.preventDefault();
      localStorage.setItem('demo.token', $<HTMLInputElement>('token').value.trim());
      localStorage.setItem('demo.device', $<HTMLInputElement>('device').value.trim());
      void this.signIn();
    });
    $('signout').addEventListener('click', () => {
      localStorage.clear();
      location.reload();
    });
    $('toggle').addEventListener('click', () => void this.toggleOnline());
    $('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('text');
      if (this.active && input.value.trim()) this.send(this.active, input.value.trim());
      input.value = '';
    });
    $('text').addEventListener('input', () => this.active && this.client?.typing(this.active));
    if (token) void this.signIn();
  }

  private userIdFromToken(token: string): string {
    try {
      return (JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string })
        .sub;
    } catch {
      return 'unknown';
    }
  }

  async signIn() {
    const token = localStorage.getItem('demo.token')!;
    const deviceId = localStorage.getItem('demo.device')!;
    const userId = this.userIdFromToken(token);
    $('signin').hidden = true;
    $('app').hidden = false;
    $('toggle').hidden = false;
    $('toggle').textContent = this.offline ? 'Go online' : 'Go offline';
    $('signout').hidden = false;
    $('who').textContent = `${userId} on ${deviceId}`;
    const storage = new IndexedDbOutboxStorage(`im-demo-outbox-${userId}-${deviceId}`);
    const client = new ChatClient({
      baseUrl: location.origin.replace(/^http/, 'ws'),
      deviceId,
      token,
      outboxStorage: storage,
    });
    this.client = client;
    this.active = localStorage.getItem('demo.active') ?? undefined;
    client.on('state', (state) => {
      const badge = $('state');
      badge.textContent = state;
      badge.className = `state ${state}`;
      if (state === 'ready') void this.refreshConversations();
    });
    client.on('message', (m) => {
      if (m.conversationId === this.active) {
        void this.renderTimeline();
        if (m.senderId !== client.userId) client.read(m.conversationId, m.seq);
      }
      // A moment later, so that the unread counts include the read we just sent.
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => void this.refreshConversations(), 300);
    });
    client.on('ack', () => void this.renderTimeline());
    client.on('outbox', (entries) => this.renderOutbox(entries));
    client.on('receipt', (r) => {
      if (r.userId === client.userId) return;
      const marks = this.marks.get(r.conversationId) ?? { delivered: 0, read: 0 };
      if (r.kind === 'read') marks.read = Math.max(marks.read, r.seq);
      marks.delivered = Math.max(marks.delivered, r.seq);
      this.marks.set(r.conversationId, marks);
      if (r.conversationId === this.active) void this.renderTimeline();
    });
    client.on('typing', (t) => {
      if (t.conversationId !== this.active) return;
      $('typing').textContent = `${t.userId} is typing…`;
      setTimeout(() => ($('typing').textContent = ''), 2500);
    });
    if (this.offline) {
      // Not connected: sends wait in the durable outbox until "Go online".
      this.renderOutbox(await storage.load());
      return;
    }
    await client.connect();
    this.renderOutbox(client.outbox());
  }

  send(conversationId: string, text: string) {
    const handle = this.client!.send(conversationId, { text });
    handle.acked.catch(() => undefined); // failures show in the outbox
    return handle.clientMsgId;
  }

  async toggleOnline() {
    if (this.offline) localStorage.removeItem('demo.offline');
    else localStorage.setItem('demo.offline', '1');
    this.client?.close();
    await this.signIn();
  }

  async refreshConversations() {
    if (!this.client || this.client.state !== 'ready') return;
    this.conversations = await this.client.conversations();
    const known = this.conversations.some((c) => c.conversationId === this.active);
    if ((!this.active || !known) && this.conversations.length > 0)
      this.select(this.conversations[0].conversationId);
    else if (this.active && !this.selectedOnce) this.select(this.active);
    $('list').innerHTML = this.conversations
      .map(
        (
          c,
        ) => `<div class="conversation${c.conversationId === this.active ? ' active' : ''}" data-id="${escape(c.conversationId)}">
          <span>${escape(c.title ?? c.conversationId.slice(0, 8))}</span>
          ${c.unread > 0 ? `<span class="unread">${c.unread}</span>` : ''}</div>`,
      )
      .join('');
    for (const el of Array.from($('list').querySelectorAll<HTMLElement>('.conversation'))) {
      el.addEventListener('click', () => this.select(el.dataset.id!));
    }
  }

  select(conversationId: string) {
    this.active = conversationId;
    localStorage.setItem('demo.active', conversationId);
    this.selectedOnce = true;
    const summary = this.conversations.find((c) => c.conversationId === conversationId);
    // The store is in memory: after a reload, the latest page comes from history.
    void this.client!.history(conversationId, { beforeSeq: (summary?.lastSeq ?? 0) + 1, limit: 100 })
      .then(() => this.renderTimeline())
      .then(async () => {
        const messages = await this.client!.timeline(conversationId);
        const last = messages[messages.length - 1];
        if (last) this.client!.read(conversationId, last.seq);
      })
      .catch(() => undefined);
    void this.refreshConversations();
  }

  async renderTimeline() {
    if (!this.client || !this.active) return;
    const messages = await this.client.timeline(this.active);
    const marks = this.marks.get(this.active) ?? { delivered: 0, read: 0 };
    const group = this.conversations.find((c) => c.conversationId === this.active)?.type === 'group';
    $('timeline').innerHTML = messages.map((m) => this.renderMessage(m, marks, group)).join('');
    $('timeline').scrollTop = $('timeline').scrollHeight;
    if (group)
      for (const el of Array.from($('timeline').querySelectorAll<HTMLElement>('.message.mine')))
        el.addEventListener('click', () => void this.showReceipts(el));
  }

  /** A group's delivery and read state is asked for when a message is opened, not pushed. */
  private async showReceipts(el: HTMLElement) {
    if (!this.client || !this.active) return;
    const seq = Number(el.dataset.seq);
    const key = `${this.active}|${seq}`;
    try {
      const r = await this.client.receipts(this.active, seq);
      this.opened.set(key, `delivered to ${r.delivered} / read by ${r.read} of ${r.members}`);
    } catch {
      this.opened.set(key, 'receipts unavailable; try again');
    }
    await this.renderTimeline();
  }

  private renderMessage(m: Message, marks: Marks, group: boolean): string {
    const mine = m.senderId === this.client?.userId;
    const mark = !mine
      ? ''
      : group
        ? 'sent ✓ · open for receipts'
        : marks.read >= m.seq
          ? 'read ✓✓'
          : marks.delivered >= m.seq
            ? 'delivered ✓✓'
            : 'sent ✓';
    const text = m.recalled
      ? 'message recalled'
      : typeof m.body.text === 'string'
        ? m.body.text
        : JSON.stringify(m.body);
    return `<div class="message${mine ? ' mine' : ''}${m.recalled ? ' recalled' : ''}" data-seq="${m.seq}">
      <div class="text">${escape(text)}</div>
      <div class="meta">${escape(m.senderId)} · #${m.seq} ${mark}</div><div class="meta receipts">${escape(this.opened.get(`${m.conversationId}|${m.seq}`) ?? '')}</div></div>`;
  }

  renderOutbox(entries: OutboxEntry[]) {
    $('pending').innerHTML =
      entries
        .map((e) => {
          const body = 'body' in e.frame ? ((e.frame.body as { text?: string }).text ?? '') : '';
          return `<div class="pending ${e.state}" data-id="${escape(e.clientMsgId)}">${escape(body)} — ${e.state === 'failed' ? 'failed' : 'sending…'}</div>`;
        })
        .join('') || '<em>empty</em>';
  }
}

const app = new DemoApp();
// For the browser test and the curious: the app and its SDK client.
(window as unknown as { demo: DemoApp }).demo = app;
app.start();
