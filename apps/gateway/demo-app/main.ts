/**
 * The browser demo served at /demo: sign in with a token, conversations with unread and
 * mention counts, a timeline with sent / delivered / read marks (in a group, opening one of
 * your messages asks who has it and who read it), and the SDK's outbox, which survives going
 * offline and reloading the page (IndexedDB). Message actions: reply (quoted above the
 * composer and in the bubble), edit your own text messages, emoji reactions (chips toggle
 * yours), @-mentions of the conversation's members, and "delete for me" (hide). Built with
 * esbuild into dist/demo/app.js.
 */
import {
  ChatClient,
  ConversationSummary,
  IndexedDbOutboxStorage,
  isControl,
  Message,
  OutboxEntry,
  OutboxFrame,
} from '@im/client-sdk';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `@id` as a whole word: an entity id (A-Z a-z 0-9 _ . : -) does not go on after it (a final dot ends it). */
const mentionPattern = (ids: string[]) =>
  new RegExp(`@(${ids.map(reEscape).join('|')})(?![A-Za-z0-9_:-]|\\.[A-Za-z0-9_:-])`, 'g');
const textOf = (body: Record<string, unknown>) =>
  typeof body.text === 'string' ? body.text : JSON.stringify(body);
/** The reactions the picker offers (any emoji the server accepts can be added). */
const EMOJI = ['👍', '❤️', '😂', '🎉', '😮'];

interface Marks {
  delivered: number;
  read: number;
}

/** What the composer's next submit does besides sending: answer a message, or edit one. */
interface Composing {
  kind: 'reply' | 'edit';
  seq: number;
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
  /** Who can be @-mentioned, by conversation: senders seen and the members `receipts` names. */
  private readonly members = new Map<string, Set<string>>();
  private readonly membersAsked = new Set<string>();
  private composing?: Composing;
  /** The message whose emoji picker is open. */
  private pickerFor?: number;
  /** Renders overlap (each awaits the store): only the newest one writes the page. */
  private renderRun = 0;
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
      const text = input.value.trim();
      if (this.active && text) {
        if (this.composing?.kind === 'edit') this.edit(this.active, this.composing.seq, text);
        else this.send(this.active, text, this.composing?.seq);
      }
      input.value = '';
      this.setComposing(undefined);
      $('suggestions').hidden = true;
    });
    $('text').addEventListener('input', () => {
      if (this.active) this.client?.typing(this.active);
      void this.suggestMentions();
    });
    $('context-cancel').addEventListener('click', () => {
      if (this.composing?.kind === 'edit') $<HTMLInputElement>('text').value = '';
      this.setComposing(undefined);
    });
    $('suggestions').addEventListener('click', (e) => {
      const option = (e.target as HTMLElement).closest<HTMLElement>('[data-user]');
      if (option) this.insertMention(option.dataset.user!);
    });
    $('timeline').addEventListener('click', (e) => void this.onTimelineClick(e.target as HTMLElement));
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
      this.refreshSoon();
    });
    client.on('ack', () => void this.renderTimeline());
    // An edit, reaction or recall changed a stored message; or "delete for me" removed one.
    client.on('updated', (m) => m.conversationId === this.active && void this.renderTimeline());
    client.on('hidden', (h) => {
      if (h.conversationId !== this.active) return;
      if (this.composing?.seq === h.seq) this.setComposing(undefined);
      void this.renderTimeline();
    });
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

  /** Sends a text; `@id` of a known member in it is sent as a mention. */
  send(conversationId: string, text: string, replyTo?: number) {
    const known = [...this.memberSet(conversationId)].filter((id) => id !== this.client?.userId);
    const mentions =
      known.length > 0 ? [...new Set([...text.matchAll(mentionPattern(known))].map((m) => m[1]))] : [];
    const handle = this.client!.send(conversationId, { text }, 'text', {
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(mentions.length > 0 ? { mentions } : {}),
    });
    handle.acked.catch(() => undefined); // failures show in the outbox
    return handle.clientMsgId;
  }

  edit(conversationId: string, seq: number, text: string) {
    const handle = this.client!.edit(conversationId, seq, { text });
    handle.acked.catch(() => undefined); // failures show in the outbox
    return handle.clientMsgId;
  }

  async toggleOnline() {
    if (this.offline) localStorage.removeItem('demo.offline');
    else localStorage.setItem('demo.offline', '1');
    this.client?.close();
    await this.signIn();
  }

  /** A moment later, so that the unread and mention counts include the read we just sent. */
  private refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refreshConversations(), 300);
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
          <span>${escape(c.title ?? c.conversationId.slice(0, 8))}</span><span class="badges">
          ${c.mentions > 0 ? `<span class="mentions" data-testid="mention-count" title="unread mentions of you">@${c.mentions}</span>` : ''}
          ${c.unread > 0 ? `<span class="unread" data-testid="unread-count">${c.unread}</span>` : ''}</span></div>`,
      )
      .join('');
    for (const el of Array.from($('list').querySelectorAll<HTMLElement>('.conversation'))) {
      el.addEventListener('click', () => this.select(el.dataset.id!));
    }
  }

  select(conversationId: string) {
    if (conversationId !== this.active) {
      this.setComposing(undefined);
      this.pickerFor = undefined;
    }
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
        this.refreshSoon(); // opening it read it: its badges go
      })
      .catch(() => undefined);
    void this.refreshConversations();
  }

  async renderTimeline() {
    if (!this.client || !this.active) return;
    const conversationId = this.active;
    const run = ++this.renderRun;
    const messages = await this.client.timeline(conversationId);
    if (run !== this.renderRun || conversationId !== this.active) return;
    const members = this.memberSet(conversationId);
    for (const m of messages) if (m.senderId !== 'system') members.add(m.senderId);
    const bySeq = new Map(messages.map((m) => [m.seq, m]));
    const marks = this.marks.get(conversationId) ?? { delivered: 0, read: 0 };
    const group = this.isGroup(conversationId);
    const timeline = $('timeline');
    const atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 60;
    const before = timeline.childElementCount;
    // Edits, reactions and recalls are messages of the stream too, but they are not bubbles:
    // the SDK has already applied them to their targets.
    const bubbles = messages.filter((m) => !isControl(m));
    timeline.innerHTML = bubbles.map((m) => this.renderMessage(m, bySeq, marks, group)).join('');
    if (atBottom || bubbles.length > before) timeline.scrollTop = timeline.scrollHeight;
  }

  private isGroup(conversationId: string): boolean {
    return this.conversations.find((c) => c.conversationId === conversationId)?.type === 'group';
  }

  /** Action buttons carry data-action; a click elsewhere on an own group message opens its receipts. */
  private async onTimelineClick(target: HTMLElement) {
    const client = this.client;
    const conversationId = this.active;
    const bubble = target.closest<HTMLElement>('.message');
    if (!client || !conversationId || !bubble) return;
    const seq = Number(bubble.dataset.seq);
    const button = target.closest<HTMLElement>('[data-action]');
    if (!button) {
      if (bubble.classList.contains('mine') && this.isGroup(conversationId)) await this.showReceipts(bubble);
      return;
    }
    const message = (await client.timeline(conversationId)).find((m) => m.seq === seq);
    if (!message) return;
    const emoji = button.dataset.emoji ?? '';
    switch (button.dataset.action) {
      case 'reply':
        this.setComposing({ kind: 'reply', seq }, message);
        break;
      case 'edit':
        $<HTMLInputElement>('text').value = textOf(message.body);
        this.setComposing({ kind: 'edit', seq }, message);
        break;
      case 'react':
        this.pickerFor = this.pickerFor === seq ? undefined : seq;
        await this.renderTimeline();
        break;
      case 'toggle-reaction':
      case 'pick-emoji': {
        // Chips and the picker toggle: the SDK shows the change once the reaction is acked.
        const mine = message.reactions?.find((r) => r.emoji === emoji)?.userIds.includes(client.userId ?? '');
        client.react(conversationId, seq, emoji, mine ? 'remove' : 'add').acked.catch(() => undefined);
        this.pickerFor = undefined;
        await this.renderTimeline();
        break;
      }
      case 'hide':
        // "Delete for me": the bubble goes on the 'hidden' event; other members keep it.
        await client.hide(conversationId, seq).catch((error: Error) => alert(`not hidden: ${error.message}`));
        break;
    }
  }

  /** The bar above the composer: which message the next send answers, or which one it edits. */
  private setComposing(composing: Composing | undefined, target?: Message) {
    this.composing = composing;
    $('context').hidden = !composing;
    if (!composing) return;
    $('context').dataset.kind = composing.kind;
    $('context-text').textContent =
      composing.kind === 'edit'
        ? `Editing #${composing.seq}`
        : `Replying to ${this.quoteOf(target, composing.seq)}`;
    $('text').focus();
  }

  private memberSet(conversationId: string): Set<string> {
    let set = this.members.get(conversationId);
    if (!set) this.members.set(conversationId, (set = new Set()));
    return set;
  }

  /**
   * The demo has no member list: it knows the senders it has seen, and `receipts` of the latest
   * message names the other members (up to 200). Asked once per conversation and page load.
   */
  private async loadMembers(conversationId: string) {
    if (!this.client || this.membersAsked.has(conversationId)) return;
    const held = await this.client.timeline(conversationId);
    const listed = this.conversations.find((c) => c.conversationId === conversationId)?.lastSeq ?? 0;
    const lastSeq = Math.max(listed, held.length > 0 ? held[held.length - 1].seq : 0);
    if (lastSeq === 0 || this.membersAsked.has(conversationId)) return;
    this.membersAsked.add(conversationId);
    try {
      const receipts = await this.client.receipts(conversationId, lastSeq);
      for (const u of receipts.users ?? []) this.memberSet(conversationId).add(u.userId);
    } catch {
      this.membersAsked.delete(conversationId); // the senders seen so far will do; ask again later
    }
  }

  /** Typing `@` (and the start of an id) offers the members to mention. */
  private async suggestMentions() {
    const input = $<HTMLInputElement>('text');
    const box = $('suggestions');
    const partial = /(?:^|\s)@([^\s@]*)$/.exec(
      input.value.slice(0, input.selectionStart ?? input.value.length),
    );
    const conversationId = this.active;
    if (!partial || !conversationId) {
      box.hidden = true;
      return;
    }
    await this.loadMembers(conversationId);
    const candidates = [...this.memberSet(conversationId)]
      .filter((id) => id !== this.client?.userId && id.startsWith(partial[1]))
      .sort();
    box.innerHTML =
      candidates
        .map(
          (id) =>
            `<button type="button" data-testid="mention-option" data-user="${escape(id)}">@${escape(id)}</button>`,
        )
        .join('') || '<em>no member to mention</em>';
    box.hidden = false;
  }

  /** Replaces the `@…` before the caret with the chosen member. */
  private insertMention(userId: string) {
    const input = $<HTMLInputElement>('text');
    const caret = input.selectionStart ?? input.value.length;
    const head = input.value.slice(0, caret).replace(/@[^\s@]*$/, `@${userId} `);
    input.value = head + input.value.slice(caret).replace(/^\s+/, '');
    input.focus();
    input.setSelectionRange(head.length, head.length);
    $('suggestions').hidden = true;
  }

  private quoteOf(target: Message | undefined, seq: number): string {
    if (!target) return `#${seq} (not shown here)`;
    return `${target.senderId}: ${target.recalled ? 'message recalled' : textOf(target.body)}`;
  }

  /** The text, with `@id` of the mentioned users highlighted (yours stronger). */
  private withMentions(text: string, mentions: string[]): string {
    if (mentions.length === 0) return escape(text);
    const chip = (id: string) =>
      `<span class="mention${id === this.client?.userId ? ' me' : ''}" data-testid="mention" data-user="${escape(id)}">@${escape(id)}</span>`;
    const ids = [...mentions].sort((x, y) => y.length - x.length);
    const shown = new Set<string>();
    let html = '';
    let last = 0;
    for (const match of text.matchAll(mentionPattern(ids))) {
      html += escape(text.slice(last, match.index)) + chip(match[1]);
      shown.add(match[1]);
      last = match.index + match[0].length;
    }
    html += escape(text.slice(last));
    // Mentioned without being written out: still say so.
    const rest = mentions.filter((id) => !shown.has(id));
    return rest.length > 0 ? `${html} ${rest.map(chip).join(' ')}` : html;
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

  private renderMessage(m: Message, bySeq: Map<number, Message>, marks: Marks, group: boolean): string {
    const me = this.client?.userId;
    const mine = m.senderId === me;
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
      ? escape('message recalled')
      : this.withMentions(textOf(m.body), m.mentions ?? []);
    const mentioned = !m.recalled && !!me && (m.mentions ?? []).includes(me);
    const quote =
      m.replyTo === undefined
        ? ''
        : `<div class="quote" data-testid="quote" data-reply-to="${m.replyTo}">↪ ${escape(this.quoteOf(bySeq.get(m.replyTo), m.replyTo))}</div>`;
    const edited =
      m.editedAt !== undefined ? ' <span class="edited" data-testid="edited">(edited)</span>' : '';
    const chips = (m.reactions ?? [])
      .map(
        (r) =>
          `<button type="button" class="chip${me && r.userIds.includes(me) ? ' own' : ''}" data-testid="reaction" data-action="toggle-reaction" data-emoji="${escape(r.emoji)}" title="${escape(r.userIds.join(', '))}">${escape(r.emoji)} <span class="count">${r.count}</span></button>`,
      )
      .join('');
    const picker =
      this.pickerFor === m.seq
        ? `<span class="picker" data-testid="emoji-picker">${EMOJI.map((e) => `<button type="button" data-testid="pick-emoji" data-action="pick-emoji" data-emoji="${e}">${e}</button>`).join('')}</span>`
        : '';
    const action = (name: string, label: string) =>
      `<button type="button" data-testid="${name}" data-action="${name}">${label}</button>`;
    const actions = [
      m.recalled ? '' : action('reply', 'reply'),
      m.recalled ? '' : action('react', 'react'),
      mine && !m.recalled && m.contentType === 'text' ? action('edit', 'edit') : '',
      action('hide', 'delete for me'),
    ].join('');
    return `<div class="message${mine ? ' mine' : ''}${m.recalled ? ' recalled' : ''}${mentioned ? ' mentioned' : ''}" data-seq="${m.seq}">
      ${quote}<div class="text">${text}${edited}</div>
      ${chips ? `<div class="chips">${chips}</div>` : ''}
      <div class="meta">${escape(m.senderId)} · #${m.seq} ${mark}</div><div class="meta receipts">${escape(this.opened.get(`${m.conversationId}|${m.seq}`) ?? '')}</div>
      <div class="actions">${actions}${picker}</div></div>`;
  }

  renderOutbox(entries: OutboxEntry[]) {
    $('pending').innerHTML =
      entries
        .map(
          (e) =>
            `<div class="pending ${e.state}" data-id="${escape(e.clientMsgId)}">${escape(describe(e.frame))} — ${e.state === 'failed' ? 'failed' : 'sending…'}</div>`,
        )
        .join('') || '<em>empty</em>';
  }
}

/** An outbox entry in a few words. */
function describe(frame: OutboxFrame): string {
  switch (frame.type) {
    case 'send':
      return typeof frame.body.text === 'string' ? frame.body.text : frame.contentType;
    case 'edit':
      return `edit #${frame.targetSeq}: ${textOf(frame.body)}`;
    case 'react':
      return `${frame.op === 'add' ? '' : 'remove '}${frame.emoji} on #${frame.targetSeq}`;
    case 'recall':
      return `recall #${frame.targetSeq}`;
  }
}

const app = new DemoApp();
// For the browser test and the curious: the app and its SDK client.
(window as unknown as { demo: DemoApp }).demo = app;
app.start();
