import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import {
  Body,
  ConflictException,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { UsersRepository } from '@im/database';
import { SYSTEM_USER_ID } from '@im/protocol';
import { TokenService } from '../auth/token.service';
import { AdminGuard } from './admin.guard';
import { CreateUserDto, IssueTokenDto, PageQuery } from './admin.dto';
import { UserSessions } from './user-sessions';

@Controller('admin/users')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class UsersController {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenService,
    private readonly userSessions: UserSessions,
  ) {}

  @Post()
  async create(@Body() dto: CreateUserDto) {
    const user = await this.users.create(dto.id ?? randomUUID(), dto.displayName ?? null);
    if (!user) throw new ConflictException(`user ${dto.id} already exists`);
    return user;
  }

  /** Users by id, a page at a time: pass the returned `next` as `after`. */
  @Get()
  async list(@Query() query: PageQuery) {
    const limit = query.limit ?? 100;
    const users = await this.users.page(query.after, limit);
    return { users, next: users.length === limit ? users[users.length - 1].id : null };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return this.requireUser(id);
  }

  @Post(':id/tokens')
  async issueToken(@Param('id') id: string, @Body() dto: IssueTokenDto) {
    await this.requireUser(id);
    if (id === SYSTEM_USER_ID) throw new ForbiddenException('the system identity has no user tokens');
    // Exactly docs/protocol.md §5's answer; the token's jti (for revocation) is in its payload.
    const { token, expiresAt } = this.tokens.issue(id, dto.ttlSeconds);
    return { token, expiresAt };
  }

  @Get(':id/sessions')
  async sessions(@Param('id') id: string) {
    await this.requireUser(id);
    return this.userSessions.list(id);
  }

  /** Closes the user's live connections with 4401 and revokes every token issued so far. */
  @Delete(':id/sessions')
  @HttpCode(204)
  async closeSessions(@Param('id') id: string) {
    await this.requireUser(id);
    await this.userSessions.revokeAll(id);
  }

  /** Revokes one token (by its jti) and closes the connections opened with it. */
  @Delete(':id/tokens/:jti')
  @HttpCode(204)
  async revokeToken(@Param('id') id: string, @Param('jti') jti: string) {
    await this.requireUser(id);
    await this.userSessions.revokeToken(id, jti);
  }

  private async requireUser(id: string) {
    const user = await this.users.get(id);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }
}
