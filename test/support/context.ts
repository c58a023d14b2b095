import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../docker/local/stack';
import { describeStack, readStackInfo, StackInfo } from './stack-info';
import { TestClient } from './test-client';

export interface TestUser {
  id: string;
  token: string;
}

export interface AdminResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, asserted field by field
  body: any;
}

/** Domain factories over the running stack; everything it opens is closed after the spec. */
export class TestContext {
  private readonly clients: TestClient[] = [];

  constructor(readonly stack: StackInfo) {}

  gateway(index = 0): string {
    return this.stack.gateways[index];
  }

  async admin(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.stack.adminToken,
  ): Promise<AdminResponse> {
    const res = await fetch(`${this.gateway()}${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async newUser(prefix = 'u'): Promise<TestUser> {
    const id = `${prefix}-${randomUUID().slice(0, 8)}`;
    const created = await this.admin('POST', '/admin/users', { id, displayName: id });
    if (created.status !== 201) throw new Error(`user not created: ${JSON.stringify(created)}`);
    const token = await this.admin('POST', `/admin/users/${id}/tokens`, {});
    return { id, token: token.body.token };
  }

  async newConversation(
    users: TestUser[],
    type: 'direct' | 'group' = users.length === 2 ? 'direct' : 'group',
  ): Promise<string> {
    const res = await this.admin('POST', '/admin/conversations', {
      type,
      memberIds: users.map((u) => u.id),
      title: 'test',
    });
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`conversation not created: ${JSON.stringify(res)}`);
    return res.body.id as string;
  }

  async connect(
    user: TestUser,
    options: { gateway?: number; deviceId?: string; ping?: boolean; auth?: 'query' | 'header' } = {},
  ): Promise<TestClient> {
    const client = await TestClient.connect(
      this.gateway(options.gateway ?? 0),
      user.token,
      user.id,
      options.deviceId ?? `d-${randomUUID().slice(0, 8)}`,
      { ping: options.ping, auth: options.auth },
    );
    this.clients.push(client);
    return client;
  }

  closeAll(): void {
    for (const c of this.clients) c.close();
  }
}

/** Start of every end-to-end spec. */
export function setup(): TestContext {
  const ctx = new TestContext(readStackInfo());
  afterAll(() => ctx.closeAll());
  return ctx;
}

/** A context over a stack a spec or benchmark started itself (HS256 secrets from its env). */
export function contextForStack(
  stack: LocalStack,
  env: { ADMIN_TOKEN: string; JWT_SECRET: string; DATABASE_URL: string; KAFKA_TOPIC_PREFIX: string },
) {
  return new TestContext(describeStack(stack, env));
}
