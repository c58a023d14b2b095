import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { isControl, Message } from '@im/client-sdk';
import { setup, TestUser } from '../support/context';
import { waitFor } from '../support/helpers';

const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT = join(__dirname, '..', '..', '.local', 'screenshots', 'demo.png');

interface Shown {
  seq: number;
  text: string;
}

/** What the page's SDK holds for a conversation: the timeline both users must agree on. */
const timelineOf = (page: Page, conversationId: string) =>
  page.evaluate(async (id) => {
    const demo = (
      window as unknown as {
        demo: { client: { timeline(c: string): Promise<{ seq: number; body: { text?: string } }[]> } };
      }
    ).demo;
    return (await demo.client.timeline(id)).map((m) => ({ seq: m.seq, text: m.body.text ?? '' }));
  }, conversationId);

/** Every message the page's SDK holds for a conversation, control messages included. */
const messagesOf = (page: Page, conversationId: string) =>
  page.evaluate(async (id) => {
    const demo = (window as unknown as { demo: { client: { timeline(c: string): Promise<unknown[]> } } })
      .demo;
    return demo.client.timeline(id);
  }, conversationId) as Promise<Message[]>;

/** A message as a bubble stands for it: what the SDK, the server and the page must agree on. */
interface Bubble {
  seq: number;
  sender: string;
  text: string;
  edited: boolean;
  reactions: string[]; // "👍 alice,bob"
  replyTo: number | null;
  mentions: string[];
}

const asBubbles = (messages: Message[]): Bubble[] =>
  messages
    .filter((m) => !isControl(m))
    .map((m) => ({
      seq: m.seq,
      sender: m.senderId,
      text: typeof m.body.text === 'string' ? m.body.text : '',
      edited: m.editedAt !== undefined,
      reactions: (m.reactions ?? []).map((r) => `${r.emoji} ${r.userIds.join(',')}`),
      replyTo: m.replyTo ?? null,
      mentions: m.mentions ?? [],
    }));

interface Drawn {
  seq: number;
  text: string;
  edited: boolean;
  reactions: string[]; // "👍 2", "👍 2 (mine)"
  quote: string | null;
  mentions: string[]; // "bob", "bob (me)"
  mentionsMe: boolean;
}

/** What the page draws: one entry per bubble. */
const drawnOn = (page: Page): Promise<Drawn[]> =>
  page.$$eval('#timeline .message', (els) =>
    (els as HTMLElement[]).map((el) => {
      const text = el.querySelector('.text')!.cloneNode(true) as HTMLElement;
      text.querySelector('[data-testid=edited]')?.remove();
      const all = (selector: string) => Array.from(el.querySelectorAll<HTMLElement>(selector));
      return {
        seq: Number(el.dataset.seq),
        text: (text.textContent ?? '').trim(),
        edited: el.querySelector('[data-testid=edited]')?.textContent === '(edited)',
        reactions: all('[data-testid=reaction]').map(
          (c) =>
            `${c.dataset.emoji} ${c.querySelector('.count')?.textContent}${c.classList.contains('own') ? ' (mine)' : ''}`,
        ),
        quote: el.querySelector('[data-testid=quote]')?.textContent ?? null,
        mentions: all('[data-testid=mention]').map(
          (m) => `${m.dataset.user}${m.classList.contains('me') ? ' (me)' : ''}`,
        ),
        mentionsMe: el.classList.contains('mentioned'),
      };
    }),
  );

/** Waits until the page draws `expected`; then returns it for a readable failure otherwise. */
async function drawnAs(page: Page, expected: Drawn[]): Promise<Drawn[]> {
  const deadline = Date.now() + 10_000;
  let drawn = await drawnOn(page);
  while (JSON.stringify(drawn) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    drawn = await drawnOn(page);
  }
  return drawn;
}

/** How many entries the page's IndexedDB outbox holds (what survives a reload). */
const storedOutbox = (page: Page, databaseName: string) =>
  page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('outbox')) return resolve((db.close(), 0));
          const count = db.transaction('outbox', 'readonly').objectStore('outbox').count();
          count.onsuccess = () => resolve((db.close(), count.result));
          count.onerror = () => reject(new Error(String(count.error)));
        };
      }),
    databaseName,
  );

const bubble = (page: Page, seq: number) => page.locator(`#timeline .message[data-seq="${seq}"]`);

async function signIn(
  context: BrowserContext,
  baseUrl: string,
  user: TestUser,
  deviceId: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/demo`);
  await page.fill('#token', user.token);
  await page.fill('#device', deviceId);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#state.ready');
  return page;
}

async function sendText(page: Page, text: string) {
  await page.fill('#text', text);
  await page.click('#composer button[type=submit]');
}

const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

describeWithBrowser('the browser demo on the client SDK (headless Chromium)', () => {
  const ctx = setup();
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => browser?.close());

  it('two pages chat; one goes offline, sends, reloads, comes back; both end with the same timeline', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const base = ctx.gateway(0);
    const a = await signIn(await browser.newContext(), base, alice, 'alice-web');
    const b = await signIn(await browser.newContext(), ctx.gateway(1), bob, 'bob-web');

    await sendText(a, 'hi bob');
    await b.waitForSelector('.message >> text=hi bob');
    await sendText(b, 'hi alice');
    await a.waitForSelector('.message >> text=hi alice');

    // Alice goes offline and writes two messages: they wait in the outbox, visibly.
    await a.click('#toggle');
    await a.waitForSelector('#toggle >> text=Go online');
    await sendText(a, 'sent while offline 1');
    await sendText(a, 'sent while offline 2');
    await a.waitForSelector('#pending .pending >> nth=1');

    // A reload keeps them (IndexedDB) and keeps her offline. The list shows a send as soon as
    // it is queued, before its IndexedDB write commits: a reload in between would lose it
    // (its promise had not settled), so wait for both to be on disk first.
    await waitFor(
      async () => (await storedOutbox(a, `im-demo-outbox-${alice.id}-alice-web`)) === 2,
      'both offline sends stored in IndexedDB',
    );
    await a.reload();
    await a.waitForSelector('#pending .pending >> nth=1');
    expect(await a.locator('#pending .pending').count()).toBe(2);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await a.screenshot({ path: SCREENSHOT.replace('.png', '-offline.png'), fullPage: true });

    // Back online: the outbox drains and Bob gets both, once each.
    await a.click('#toggle');
    await a.waitForSelector('#state.ready');
    await a.waitForFunction(() => document.querySelectorAll('#pending .pending').length === 0);
    await b.waitForSelector('.message >> text=sent while offline 2');
    await a.waitForSelector('.message >> text=sent while offline 2');
    await sendText(b, 'welcome back');
    await a.waitForSelector('.message >> text=welcome back');
    await a.screenshot({ path: SCREENSHOT, fullPage: true });

    const expected: Shown[] = [
      'hi bob',
      'hi alice',
      'sent while offline 1',
      'sent while offline 2',
      'welcome back',
    ].map((text, i) => ({ seq: i + 1, text }));
    await a.waitForFunction(() => document.querySelectorAll('.message').length === 5);
    await b.waitForFunction(() => document.querySelectorAll('.message').length === 5);
    expect(await timelineOf(a, conversationId)).toEqual(expected);
    expect(await timelineOf(b, conversationId)).toEqual(expected);
    // And the server agrees: nothing lost, nothing doubled.
    const stored = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=0&limit=50`,
    );
    expect(
      stored.body.messages.map((m: { seq: number; body: { text: string } }) => ({
        seq: m.seq,
        text: m.body.text,
      })),
    ).toEqual(expected);
  });

  it('in a group, opening one of your messages shows who has it and who read it', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await signIn(await browser.newContext(), ctx.gateway(0), alice, 'alice-group');
    const b = await signIn(await browser.newContext(), ctx.gateway(1), bob, 'bob-group');
    await a.click(`.conversation[data-id="${conversationId}"]`);
    await sendText(a, 'hello group');
    // Bob's page opens the conversation, stores it (deliver_ack) and reads it; carol is offline.
    await b.click(`.conversation[data-id="${conversationId}"]`);
    await b.waitForSelector('.message >> text=hello group');
    const message = a.locator('.message.mine', { hasText: 'hello group' });
    await message.waitFor();
    // Wait (on the server, not the page) until Bob's deliver_ack and read are applied.
    const [stored] = (await ctx.admin('GET', `/admin/conversations/${conversationId}/messages?afterSeq=0`))
      .body.messages;
    await waitFor(async () => {
      const members = (await ctx.admin('GET', `/admin/messages/${stored.messageId}`)).body.members as {
        userId: string;
        deliveredSeq: number;
        readSeq: number;
      }[];
      return members.some((m) => m.userId === bob.id && m.deliveredSeq === 1 && m.readSeq === 1);
    }, 'bob’s cursors');
    await message.click();
    await a.locator('.message.mine .receipts', { hasText: 'delivered to 1 / read by 1 of 2' }).waitFor();
    await a.screenshot({ path: SCREENSHOT.replace('.png', '-group-receipts.png'), fullPage: true });
  });

  it('edit, reactions, a reply, a mention and "delete for me": both pages and the server agree', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await signIn(await browser.newContext(), ctx.gateway(0), alice, 'alice-actions');
    const b = await signIn(await browser.newContext(), ctx.gateway(1), bob, 'bob-actions');

    await sendText(a, 'hi bob');
    await bubble(b, 1).filter({ hasText: 'hi bob' }).waitFor();
    // Control messages are not bubbles, and only own text messages offer "edit".
    await bubble(a, 1).getByTestId('edit').waitFor();
    expect(await bubble(b, 1).getByTestId('edit').count()).toBe(0);

    // Alice edits her message (seq 2 is the edit).
    await bubble(a, 1).getByTestId('edit').click();
    expect(await a.getByTestId('composer-context').textContent()).toContain('Editing #1');
    expect(await a.inputValue('#text')).toBe('hi bob');
    await sendText(a, 'hi bob, edited');
    for (const page of [a, b]) {
      await bubble(page, 1).filter({ hasText: 'hi bob, edited' }).getByTestId('edited').waitFor();
    }
    expect(await a.getByTestId('composer-context').isHidden()).toBe(true);

    // Reactions (seqs 3–6): Bob adds 👍 from the picker, Alice joins by clicking the chip,
    // Bob adds 🎉, then takes his 👍 back by clicking it.
    const chip = (page: Page, emoji: string) =>
      bubble(page, 1).locator(`[data-testid=reaction][data-emoji="${emoji}"]`);
    await bubble(b, 1).getByTestId('react').click();
    await bubble(b, 1).getByTestId('emoji-picker').locator('[data-emoji="👍"]').click();
    await chip(a, '👍').filter({ hasText: '1' }).waitFor();
    await chip(a, '👍').click();
    await chip(b, '👍').filter({ hasText: '2' }).waitFor();
    await chip(a, '👍').filter({ hasText: '2' }).waitFor();
    await bubble(b, 1).getByTestId('react').click();
    await bubble(b, 1).getByTestId('emoji-picker').locator('[data-emoji="🎉"]').click();
    await chip(b, '🎉').waitFor();
    await chip(a, '🎉').waitFor();
    await chip(b, '👍').click();
    for (const page of [a, b]) await chip(page, '👍').filter({ hasText: '1' }).waitFor();

    // Bob replies to it (seq 7): the quote shows above his composer, then in both bubbles.
    await bubble(b, 1).getByTestId('reply').click();
    expect(await b.getByTestId('composer-context').textContent()).toContain('hi bob, edited');
    await sendText(b, 'a reply');
    for (const page of [a, b]) await bubble(page, 7).getByTestId('quote').waitFor();

    // Alice mentions Bob (seq 8): `@` offers the members, the pick goes into the text.
    await a.locator('#text').pressSequentially('@');
    await a.locator(`[data-testid=mention-option][data-user="${bob.id}"]`).click();
    await a.locator('#text').pressSequentially('see above');
    expect(await a.inputValue('#text')).toBe(`@${bob.id} see above`);
    await a.click('#composer button[type=submit]');
    await bubble(b, 8).locator('.mention.me').waitFor();

    // Alice sends one more (seq 9), and Bob deletes it for himself only.
    await sendText(a, 'only alice keeps this');
    await bubble(b, 9).waitFor();
    await bubble(b, 9).getByTestId('hide').click();
    await bubble(b, 9).waitFor({ state: 'detached' });

    const quote = `↪ ${alice.id}: hi bob, edited`;
    const drawn = (me: string): Drawn[] => [
      {
        seq: 1,
        text: 'hi bob, edited',
        edited: true,
        reactions: [`👍 1${me === alice.id ? ' (mine)' : ''}`, `🎉 1${me === bob.id ? ' (mine)' : ''}`],
        quote: null,
        mentions: [],
        mentionsMe: false,
      },
      { seq: 7, text: 'a reply', edited: false, reactions: [], quote, mentions: [], mentionsMe: false },
      {
        seq: 8,
        text: `@${bob.id} see above`,
        edited: false,
        reactions: [],
        quote: null,
        mentions: [`${bob.id}${me === bob.id ? ' (me)' : ''}`],
        mentionsMe: me === bob.id,
      },
      ...(me === alice.id
        ? [
            {
              seq: 9,
              text: 'only alice keeps this',
              edited: false,
              reactions: [],
              quote: null,
              mentions: [],
              mentionsMe: false,
            },
          ]
        : []),
    ];
    expect(await drawnAs(a, drawn(alice.id))).toEqual(drawn(alice.id));
    expect(await drawnAs(b, drawn(bob.id))).toEqual(drawn(bob.id));
    await a.screenshot({ path: SCREENSHOT.replace('.png', '-actions-alice.png'), fullPage: true });
    await b.screenshot({ path: SCREENSHOT.replace('.png', '-actions-bob.png'), fullPage: true });

    // The SDKs hold the same targets, and so does the server (which still shows seq 9 to all).
    const expected: Bubble[] = [
      {
        seq: 1,
        sender: alice.id,
        text: 'hi bob, edited',
        edited: true,
        reactions: [`👍 ${alice.id}`, `🎉 ${bob.id}`],
        replyTo: null,
        mentions: [],
      },
      { seq: 7, sender: bob.id, text: 'a reply', edited: false, reactions: [], replyTo: 1, mentions: [] },
      {
        seq: 8,
        sender: alice.id,
        text: `@${bob.id} see above`,
        edited: false,
        reactions: [],
        replyTo: null,
        mentions: [bob.id],
      },
      {
        seq: 9,
        sender: alice.id,
        text: 'only alice keeps this',
        edited: false,
        reactions: [],
        replyTo: null,
        mentions: [],
      },
    ];
    const stored = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=0&limit=100`,
    );
    expect(stored.status).toBe(200);
    expect(asBubbles(stored.body.messages)).toEqual(expected);
    expect((stored.body.messages as Message[]).map((m) => m.contentType)).toEqual([
      'text',
      'edit',
      'reaction',
      'reaction',
      'reaction',
      'reaction',
      'text',
      'text',
      'text',
    ]);
    expect(asBubbles(await messagesOf(a, conversationId))).toEqual(expected);
    expect(asBubbles(await messagesOf(b, conversationId))).toEqual(expected.filter((m) => m.seq !== 9));

    // The hide holds for Bob after a reload (the page reloads its history from the server).
    await b.reload();
    await b.waitForSelector('#state.ready');
    await bubble(b, 8).locator('.mention.me').waitFor();
    expect(await drawnAs(b, drawn(bob.id))).toEqual(drawn(bob.id));
  });

  it('a mention of you counts beside the unread count until you open the conversation', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const direct = await ctx.newConversation([alice, bob]);
    const group = await ctx.newConversation([alice, bob], 'group');
    const a = await signIn(await browser.newContext(), ctx.gateway(0), alice, 'alice-mentions');
    const b = await signIn(await browser.newContext(), ctx.gateway(1), bob, 'bob-mentions');
    await b.click(`.conversation[data-id="${direct}"]`);
    await b.waitForSelector(`.conversation.active[data-id="${direct}"]`);

    // A first message, so that the group has someone to ask receipts about (and for).
    const posted = await ctx.admin('POST', `/admin/conversations/${group}/messages`, {
      clientMsgId: 'hello',
      body: { text: 'welcome to the group' },
    });
    expect(posted.status).toBe(201);
    await a.click(`.conversation[data-id="${group}"]`);
    await a.locator('.message', { hasText: 'welcome to the group' }).waitFor();
    await a.locator('#text').pressSequentially('hello @');
    await a.locator(`[data-testid=mention-option][data-user="${bob.id}"]`).click();
    await a.click('#composer button[type=submit]');

    const entry = b.locator(`.conversation[data-id="${group}"]`);
    await entry.getByTestId('mention-count').filter({ hasText: '@1' }).waitFor();
    expect(await entry.getByTestId('unread-count').textContent()).toBe('2');
    await entry.click();
    await b.locator('.message.mentioned .mention.me').waitFor();
    await entry.getByTestId('mention-count').waitFor({ state: 'detached' });
    expect(await entry.getByTestId('unread-count').count()).toBe(0);
  });
});
