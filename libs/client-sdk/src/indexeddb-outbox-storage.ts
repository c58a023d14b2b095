import { isOutboxEntry, type OutboxEntry, type OutboxStorage } from './outbox-storage';

export interface IndexedDbOutboxOptions {
  /** Object store name; default 'outbox'. */
  storeName?: string;
  /** The IDBFactory; default globalThis.indexedDB. */
  indexedDB?: IDBFactory;
}

/**
 * The browser's durable outbox: one IndexedDB database per user and device (name it so,
 * e.g. `im-outbox-${userId}-${deviceId}`), entries keyed by clientMsgId. Writes use
 * 'strict' durability and resolve on the transaction's `complete`, i.e. once on disk.
 */
export class IndexedDbOutboxStorage implements OutboxStorage {
  private readonly storeName: string;
  private db?: Promise<IDBDatabase>;

  constructor(
    readonly databaseName: string,
    private readonly options: IndexedDbOutboxOptions = {},
  ) {
    this.storeName = options.storeName ?? 'outbox';
  }

  async load(): Promise<OutboxEntry[]> {
    const values = await this.run<unknown[]>('readonly', (store) => store.getAll());
    return values.filter(isOutboxEntry).sort((a, b) => a.createdAt - b.createdAt);
  }

  async put(entry: OutboxEntry): Promise<void> {
    await this.run('readwrite', (store) => store.put(entry));
  }

  async delete(clientMsgId: string): Promise<void> {
    await this.run('readwrite', (store) => store.delete(clientMsgId));
  }

  /** Closes the database (for tests and for switching users). */
  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) (await db).close();
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const factory = this.options.indexedDB ?? globalThis.indexedDB;
      if (!factory) return reject(new Error('IndexedDB is not available here'));
      const request = factory.open(this.databaseName, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(this.storeName))
          request.result.createObjectStore(this.storeName, { keyPath: 'clientMsgId' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
      request.onblocked = () => reject(new Error('IndexedDB open blocked by another tab'));
    });
    // A failed open is not cached: the next call tries again.
    this.db.catch(() => (this.db = undefined));
    return this.db;
  }

  /** One request in its own transaction; resolves with its result once the transaction completed. */
  private async run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(this.storeName, mode, { durability: 'strict' });
      const request = work(tx.objectStore(this.storeName));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error ?? request.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
}
