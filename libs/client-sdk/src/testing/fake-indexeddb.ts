/**
 * Just enough of IndexedDB for IndexedDbOutboxStorage's specs: open with upgrade, one
 * object store with a keyPath, getAll/put/delete in transactions that complete
 * asynchronously. Databases outlive connections, as across a page reload.
 */
type Listener = (() => void) | null;

class FakeRequest {
  result: unknown;
  error: Error | null = null;
  onsuccess: Listener = null;
  onerror: Listener = null;
  onupgradeneeded: Listener = null;
  onblocked: Listener = null;
}

class FakeObjectStore {
  constructor(
    private readonly data: Map<unknown, unknown>,
    private readonly keyPath: string,
    private readonly tx: FakeTransaction,
  ) {}

  getAll(): FakeRequest {
    return this.tx.request(() => [...this.data.values()].map((v) => structuredClone(v)));
  }

  put(value: Record<string, unknown>): FakeRequest {
    this.tx.assertWritable();
    return this.tx.request(() => {
      this.data.set(value[this.keyPath], structuredClone(value));
      return value[this.keyPath];
    });
  }

  delete(key: unknown): FakeRequest {
    this.tx.assertWritable();
    return this.tx.request(() => {
      this.data.delete(key);
      return undefined;
    });
  }
}

class FakeTransaction {
  oncomplete: Listener = null;
  onerror: Listener = null;
  onabort: Listener = null;
  error: Error | null = null;
  private readonly work: (() => void)[] = [];

  constructor(
    private readonly db: FakeDatabase,
    private readonly storeName: string,
    private readonly mode: string,
  ) {
    setTimeout(() => {
      for (const w of this.work) w();
      this.oncomplete?.();
    }, 0);
  }

  objectStore(name: string): FakeObjectStore {
    const store = this.db.stores.get(name);
    if (!store || name !== this.storeName) throw new Error(`no object store ${name}`);
    return new FakeObjectStore(store.data, store.keyPath, this);
  }

  assertWritable(): void {
    if (this.mode !== 'readwrite') throw new Error('read-only transaction');
  }

  request(run: () => unknown): FakeRequest {
    const request = new FakeRequest();
    this.work.push(() => {
      request.result = run();
      request.onsuccess?.();
    });
    return request;
  }
}

class FakeDatabase {
  readonly stores = new Map<string, { keyPath: string; data: Map<unknown, unknown> }>();
  version = 0;
  closed = false;

  get objectStoreNames() {
    return { contains: (name: string) => this.stores.has(name) };
  }

  createObjectStore(name: string, options: { keyPath: string }): void {
    this.stores.set(name, { keyPath: options.keyPath, data: new Map() });
  }

  transaction(storeName: string, mode = 'readonly'): FakeTransaction {
    if (this.closed) throw new Error('database closed');
    return new FakeTransaction(this, storeName, mode);
  }

  close(): void {
    this.closed = true;
  }
}

export class FakeIndexedDb {
  private readonly databases = new Map<string, { stores: FakeDatabase['stores']; version: number }>();

  open(name: string, version = 1): FakeRequest {
    const request = new FakeRequest();
    setTimeout(() => {
      const db = new FakeDatabase();
      const existing = this.databases.get(name);
      if (existing) {
        for (const [k, v] of existing.stores) db.stores.set(k, v);
        db.version = existing.version;
      }
      request.result = db;
      if (db.version < version) {
        db.version = version;
        request.onupgradeneeded?.();
      }
      this.databases.set(name, { stores: db.stores, version: db.version });
      request.onsuccess?.();
    }, 0);
    return request;
  }

  /** As an IDBFactory, for the storage's options. */
  asFactory(): IDBFactory {
    return this as unknown as IDBFactory;
  }
}
