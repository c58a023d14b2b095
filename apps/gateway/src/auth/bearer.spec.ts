import { bearerToken } from './bearer';

describe('bearerToken', () => {
  it('takes the token after the scheme, whatever its case, trimmed', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('BEARER   abc')).toBe('abc');
  });
  it('has none for another scheme, no token or no header', () => {
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
