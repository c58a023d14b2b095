import { ExecutionContext, ForbiddenException, HttpException, UnauthorizedException } from '@nestjs/common';
import type { TokenService, UserIdentity } from '../auth/token.service';
import { AdminGuard } from './admin.guard';

/** Admin calls: no or a bad token is 401, a user's valid token is 403, ADMIN_TOKEN passes. */
describe('AdminGuard', () => {
  const ADMIN = 'admin-secret-0123456789abcdef0123456789';
  const USER_JWT = 'user.jwt.token';
  const tokens = {
    isAdminToken: (token: string) => token === ADMIN,
    verify: (token: string | null | undefined): UserIdentity | null =>
      token === USER_JWT ? { userId: 'u1', expiresAt: 2_000_000_000 } : null,
  } as unknown as TokenService;
  const guard = new AdminGuard(tokens);

  const contextWith = (authorization?: string) =>
    ({
      switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }),
    }) as unknown as ExecutionContext;

  /** The exception the guard throws for this header (or fails the spec when it lets it through). */
  function refusal(authorization?: string): HttpException {
    try {
      guard.canActivate(contextWith(authorization));
    } catch (error) {
      return error as HttpException;
    }
    throw new Error(`the guard let ${authorization} through`);
  }

  it('lets ADMIN_TOKEN through, with blanks around it trimmed', () => {
    expect(guard.canActivate(contextWith(`Bearer ${ADMIN}`))).toBe(true);
    expect(guard.canActivate(contextWith(`Bearer  ${ADMIN} `))).toBe(true);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty bearer token', 'Bearer   '],
    ['another scheme', `Basic ${ADMIN}`],
    ['the token without a scheme', ADMIN],
  ])('asks for the admin token (401) given %s', (_, header) => {
    const error = refusal(header);
    expect(error).toBeInstanceOf(UnauthorizedException);
    expect(error.message).toMatch(/admin token required/);
  });

  it('refuses a user’s valid token with 403, not 401, so the caller knows the token itself is fine', () => {
    const error = refusal(`Bearer ${USER_JWT}`);
    expect(error).toBeInstanceOf(ForbiddenException);
    expect(error.getStatus()).toBe(403);
  });

  it('refuses any other token with 401 invalid admin token', () => {
    const error = refusal('Bearer not-the-admin-token');
    expect(error).toBeInstanceOf(UnauthorizedException);
    expect(error.message).toBe('invalid admin token');
  });
});
