import { loadConfig, redisKeyPrefix } from './app-config';

const secrets = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32) };

describe('loadConfig', () => {
  it('applies the local defaults of the protocol', () => {
    const config = loadConfig({ ...secrets });
    expect(config.GATEWAY_PORT).toBe(3000);
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/im');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.MAX_FRAME_BYTES).toBe(65536);
  });

  it('converts numbers from strings', () => {
    expect(loadConfig({ ...secrets, GATEWAY_PORT: '4100' }).GATEWAY_PORT).toBe(4100);
  });

  it('namespaces Redis like Kafka unless told otherwise', () => {
    expect(redisKeyPrefix(loadConfig({ ...secrets }))).toBe('im:');
    expect(redisKeyPrefix(loadConfig({ ...secrets, KAFKA_TOPIC_PREFIX: 'staging' }))).toBe('staging:');
    expect(redisKeyPrefix(loadConfig({ ...secrets, REDIS_KEY_PREFIX: 'chat-eu:' }))).toBe('chat-eu:');
    expect(() => loadConfig({ ...secrets, REDIS_KEY_PREFIX: 'has space' })).toThrow(/REDIS_KEY_PREFIX/);
  });

  it('checks no issuer unless JWT_ISSUER is set, and takes it as given when it is', () => {
    expect(loadConfig({ ...secrets }).JWT_ISSUER).toBeUndefined();
    expect(loadConfig({ ...secrets, JWT_ISSUER: '' }).JWT_ISSUER).toBeUndefined();
    expect(loadConfig({ ...secrets, JWT_ISSUER: 'im-backend' }).JWT_ISSUER).toBe('im-backend');
  });

  it('refuses to start without secrets', () => {
    expect(() => loadConfig({})).toThrow(/ADMIN_TOKEN[\s\S]*JWT_SECRET/);
  });

  it('rejects malformed values with the name of the setting', () => {
    expect(() => loadConfig({ ...secrets, GATEWAY_PORT: 'abc' })).toThrow(/GATEWAY_PORT/);
    expect(() => loadConfig({ ...secrets, REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
  });

  it('needs a public key instead of a secret for RS256', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: secrets.ADMIN_TOKEN, JWT_ALGORITHM: 'RS256' })).toThrow(
      /JWT_PUBLIC_KEY/,
    );
  });
  it('sends no webhooks by default, and needs a secret once a webhook URL is set', () => {
    const plain = loadConfig({ ...secrets });
    expect(plain.WEBHOOK_URL).toBeUndefined();
    expect(plain.WEBHOOK_BEFORE_SEND).toBe(false);
    expect(plain.WEBHOOK_FAIL_OPEN).toBe(true);
    expect(plain.WEBHOOK_TIMEOUT_MS).toBe(1000);
    const hook = { ...secrets, WEBHOOK_URL: 'http://127.0.0.1:9000/im' };
    expect(() => loadConfig(hook)).toThrow(/WEBHOOK_SECRET/);
    const set = loadConfig({
      ...hook,
      WEBHOOK_SECRET: 's'.repeat(20),
      WEBHOOK_BEFORE_SEND: 'TRUE',
      WEBHOOK_FAIL_OPEN: '0',
    });
    expect(set.WEBHOOK_BEFORE_SEND).toBe(true);
    expect(set.WEBHOOK_FAIL_OPEN).toBe(false);
    expect(() => loadConfig({ ...secrets, WEBHOOK_BEFORE_SEND: 'yes' })).toThrow(/WEBHOOK_BEFORE_SEND/);
    expect(() => loadConfig({ ...secrets, WEBHOOK_URL: 'ftp://x' })).toThrow(/WEBHOOK_URL/);
  });
});
