import { crc16, hashTagOf, keySlot } from './key-slot';

describe('keySlot', () => {
  it('is CRC16/XMODEM mod 16384, as Redis Cluster computes it', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    // Values printed by `redis-cli CLUSTER KEYSLOT` on a Redis 7 cluster.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('somekey')).toBe(11058);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(hashTagOf('im:idem:{c1}|u|m')).toBe('c1');
    expect(keySlot('im:idem:{c1}|u|m')).toBe(keySlot('other:seqhw:{c1}'));
    expect(hashTagOf('a{}b{c}')).toBe('a{}b{c}');
    expect(hashTagOf('a{b')).toBe('a{b');
    expect(hashTagOf('{x}{y}')).toBe('x');
  });
});
