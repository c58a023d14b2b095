import { ConfigError, loadConfig, redisTarget } from './app-config';

const secrets = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32) };

describe('redisTarget', () => {
  it('is the single server of REDIS_URL unless REDIS_CLUSTER_NODES is set', () => {
    expect(redisTarget(loadConfig({ ...secrets, REDIS_URL: 'redis://cache:6380' }))).toEqual({
      kind: 'single',
      url: 'redis://cache:6380',
    });
  });

  it('reads seed nodes as host:port or URLs, with shared credentials and TLS', () => {
    const plain = redisTarget(
      loadConfig({ ...secrets, REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-1.redis:7001' }),
    );
    expect(plain).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-1.redis', port: 7001 },
      ],
      tls: false,
    });
    const secured = redisTarget(
      loadConfig({ ...secrets, REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@a:6379,rediss://b:6379' }),
    );
    expect(secured).toMatchObject({ username: 'app', password: 's@cret', tls: true });
    expect(secured.kind === 'cluster' && secured.nodes.map((n) => n.host)).toEqual(['a', 'b']);
  });

  it('refuses what a cluster client could not use, at start', () => {
    for (const bad of ['', ' ', 'a', 'a:', 'http://a:1', 'a:1;b:2', 'a:1,,b:2'])
      if (bad.trim() !== '')
        expect(() => loadConfig({ ...secrets, REDIS_CLUSTER_NODES: bad })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ ...secrets, REDIS_CLUSTER_NODES: 'redis://a:1,rediss://b:2' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ ...secrets, REDIS_CLUSTER_NODES: 'redis://u:p@a:1,redis://u:q@b:2' })).toThrow(
      /different credentials/,
    );
  });
});
