// Node only: imported by node.ts, never by index.ts, so browser bundles do not pull in node:fs.
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isOutboxEntry, type OutboxEntry, type OutboxStorage } from './outbox-storage';

interface FileContent {
  version: 1;
  entries: OutboxEntry[];
}

interface PendingChange {
  apply(entries: Map<string, OutboxEntry>): void;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The outbox as one JSON file, for Node. Every change rewrites the whole file atomically:
 * written to a temporary file, fsynced, then renamed over the old one, so a crash at any
 * moment leaves either the old or the new content, never a torn file. Changes that arrive
 * while a write is under way are written together by the next one. One process per file.
 */
export class FileOutboxStorage implements OutboxStorage {
  private entries?: Promise<Map<string, OutboxEntry>>;
  private readonly queue: PendingChange[] = [];
  private writing = false;
  private tempCounter = 0;

  constructor(readonly path: string) {}

  async load(): Promise<OutboxEntry[]> {
    return [...(await this.read()).values()].map((e) => structuredClone(e));
  }

  put(entry: OutboxEntry): Promise<void> {
    const copy = structuredClone(entry);
    return this.change((entries) => entries.set(copy.clientMsgId, copy));
  }

  delete(clientMsgId: string): Promise<void> {
    return this.change((entries) => entries.delete(clientMsgId));
  }

  private read(): Promise<Map<string, OutboxEntry>> {
    this.entries ??= readFile(this.path, 'utf8').then(
      (text) => {
        const content = JSON.parse(text) as Partial<FileContent>;
        if (content.version !== 1 || !Array.isArray(content.entries))
          throw new Error(`${this.path} is not an outbox file`);
        return new Map(content.entries.filter(isOutboxEntry).map((e) => [e.clientMsgId, e]));
      },
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return new Map<string, OutboxEntry>();
        throw error;
      },
    );
    this.entries.catch(() => (this.entries = undefined));
    return this.entries;
  }

  private change(apply: (entries: Map<string, OutboxEntry>) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      void this.drain();
    });
  }

  /**
   * Writes queued changes in batches. A batch is applied to a copy that replaces the live
   * map only once it is on disk, so a failed write changes nothing and rejects its callers.
   */
  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const next = new Map(await this.read());
          for (const change of batch) change.apply(next);
          await this.write([...next.values()]);
          this.entries = Promise.resolve(next);
          for (const change of batch) change.resolve();
        } catch (error) {
          for (const change of batch) change.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(entries: OutboxEntry[]): Promise<void> {
    const content: FileContent = { version: 1, entries };
    const temp = `${this.path}.${process.pid}.${++this.tempCounter}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(temp, 'w');
    try {
      await file.writeFile(JSON.stringify(content));
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dirname(this.path));
  }
}

/** Makes the rename itself durable where the platform allows it (not on Windows). */
async function syncDirectory(path: string): Promise<void> {
  try {
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort: the content is already fsynced, only the directory entry may lag.
  }
}
