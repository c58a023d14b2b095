import WebSocket from 'ws';

/** A Chrome DevTools Protocol session with the gateway's inspector. */
export class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: Record<string, unknown>) => void>();
  private chunks: string[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString()) as {
        id?: number;
        result?: Record<string, unknown>;
        method?: string;
        params?: { chunk?: string };
      };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks.push(message.params!.chunk!);
      if (message.id !== undefined) this.waiting.get(message.id)?.(message.result ?? {});
    });
  }

  static async open(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { maxPayload: 1 << 30 });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Heap used + external after two full collections. */
  async memoryAfterGc(): Promise<{ heap: number; external: number }> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const reply = await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse((reply.result as { value: string }).value) as {
      heapUsed: number;
      external: number;
    };
    return { heap: usage.heapUsed, external: usage.external };
  }

  /** Self size in bytes per kind of object (constructor name, or V8's node type), from a snapshot. */
  async heapByKind(): Promise<Map<string, number>> {
    this.chunks = [];
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const snapshot = JSON.parse(this.chunks.join('')) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    this.chunks = [];
    const fields = snapshot.snapshot.meta.node_fields;
    const types = snapshot.snapshot.meta.node_types[0];
    const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
    const bytes = new Map<string, number>();
    for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
      const type = types[snapshot.nodes[i + typeAt]];
      const kind =
        type === 'object' || type === 'closure'
          ? `${type} ${snapshot.strings[snapshot.nodes[i + nameAt]]}`
          : type;
      bytes.set(kind, (bytes.get(kind) ?? 0) + snapshot.nodes[i + sizeAt]);
    }
    return bytes;
  }

  close() {
    this.ws.close();
  }
}
