import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileOutboxStorage } from './file-outbox-storage';
import type { OutboxEntry } from './outbox-storage';

const entry = (id: string, createdAt = 1): OutboxEntry => ({
  clientMsgId: id,
  createdAt,
  state: 'pending',
  frame: { type: 'send', clientMsgId: id, conversationId: 'c1', contentType: 'text', body: { text: id } },
});

describe('FileOutboxStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty when the file does not exist', async () => {
    expect(await new FileOutboxStorage(join(dir, 'none.json')).load()).toEqual([]);
  });

  it('keeps entries across instances (a process restart), in order', async () => {
    const path = join(dir, 'sub', 'outbox.json');
    const first = new FileOutboxStorage(path);
    await first.put(entry('a', 1));
    await first.put(entry('b', 2));
    await first.put({ ...entry('a', 1), state: 'failed', error: { code: 'timeout', message: 'late' } });
    await first.delete('missing');
    const loaded = await new FileOutboxStorage(path).load();
    expect(loaded.map((e) => [e.clientMsgId, e.state])).toEqual([
      ['a', 'failed'],
      ['b', 'pending'],
    ]);
    await new FileOutboxStorage(path).delete('a');
    expect((await new FileOutboxStorage(path).load()).map((e) => e.clientMsgId)).toEqual(['b']);
  });

  it('writes concurrent changes completely, and leaves no temporary files', async () => {
    const path = join(dir, 'outbox.json');
    const storage = new FileOutboxStorage(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => storage.put(entry(`m${i}`, i))));
    await Promise.all([storage.delete('m0'), storage.delete('m1')]);
    const loaded = await new FileOutboxStorage(path).load();
    expect(loaded).toHaveLength(48);
    expect(loaded[0].clientMsgId).toBe('m2');
    expect(await readdir(dir)).toEqual(['outbox.json']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('keeps edit and react entries, and leaves out entries of frames it does not send', async () => {
    const path = join(dir, 'outbox.json');
    const edit: OutboxEntry = {
      clientMsgId: 'e',
      createdAt: 1,
      state: 'pending',
      frame: { type: 'edit', clientMsgId: 'e', conversationId: 'c1', targetSeq: 3, body: { text: 'x' } },
    };
    const react: OutboxEntry = {
      clientMsgId: 'r',
      createdAt: 2,
      state: 'failed',
      error: { code: 'forbidden', message: 'no' },
      frame: {
        type: 'react',
        clientMsgId: 'r',
        conversationId: 'c1',
        targetSeq: 3,
        emoji: '👍',
        op: 'remove',
      },
    };
    const hide = {
      clientMsgId: 'h',
      createdAt: 3,
      state: 'pending',
      frame: { type: 'hide', clientMsgId: 'h' },
    };
    await writeFile(path, JSON.stringify({ version: 1, entries: [edit, react, hide] }));
    expect(await new FileOutboxStorage(path).load()).toEqual([edit, react]);
  });

  it('refuses a file that is not an outbox instead of overwriting it', async () => {
    const path = join(dir, 'outbox.json');
    await writeFile(path, '{"something":"else"}');
    const storage = new FileOutboxStorage(path);
    await expect(storage.load()).rejects.toThrow('not an outbox file');
    await expect(storage.put(entry('a'))).rejects.toThrow('not an outbox file');
    expect(await readFile(path, 'utf8')).toBe('{"something":"else"}');
  });

  it('changes nothing when a write fails, and goes on with the next change', async () => {
    const path = join(dir, 'outbox.json');
    const storage = new FileOutboxStorage(path);
    await storage.put(entry('a', 1));
    // The next temporary file name is taken by a directory: that write cannot happen.
    await mkdir(`${path}.${process.pid}.2.tmp`);
    await expect(storage.put(entry('b', 2))).rejects.toThrow();
    expect((await storage.load()).map((e) => e.clientMsgId)).toEqual(['a']);
    await storage.put(entry('c', 3));
    expect((await new FileOutboxStorage(path).load()).map((e) => e.clientMsgId)).toEqual(['a', 'c']);
  });
});
