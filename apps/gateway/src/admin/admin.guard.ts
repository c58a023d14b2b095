import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken } from '../auth/bearer';
import { TokenService } from '../auth/token.service';

/** Admin calls need ADMIN_TOKEN: none or a bad one is 401, a user's valid token is 403. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = bearerToken(header) ?? '';
    if (!token) throw new UnauthorizedException('admin token required (Authorization: Bearer <ADMIN_TOKEN>)');
    if (this.tokens.isAdminToken(token)) return true;
    if (this.tokens.verify(token)) throw new ForbiddenException('a user token cannot call the admin API');
    throw new UnauthorizedException('invalid admin token');
  }
}
