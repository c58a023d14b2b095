import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
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

    // A reload keeps them (IndexedDB) and keeps her offline.
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
});
