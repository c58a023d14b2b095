import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { UsersRepository } from '@im/database';
import { CloseCode } from '@im/protocol';
import { GatewayBus, PresenceStore, REDIS } from '@im/realtime';
import { TokenService } from '../auth/token.service';
import { AdminGuard } from './admin.guard';
import { CreateUserDto, IssueTokenDto } from './admin.dto';

@Controller('admin/users')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class UsersController {
  private readonly presence: PresenceStore;
  private readonly bus: GatewayBus;

  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenService,
    @Inject(REDIS) redis: Redis,
  ) {
    this.presence = new PresenceStore(redis);
    this.bus = new GatewayBus(redis);
  }

  @Post()
  async create(@Body() dto: CreateUserDto) {
    const user = await this.users.create(dto.id ?? randomUUID(), dto.displayName ?? null);
    if (!user) throw new ConflictException(`user ${dto.id} already exists`);
    return user;
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return this.requireUser(id);
  }

  @Post(':id/tokens')
  async issueToken(@Param('id') id: string, @Body() dto: IssueTokenDto) {
    await this.requireUser(id);
    return this.tokens.issue(id, dto.ttlSeconds);
  }

  @Get(':id/sessions')
  async sessions(@Param('id') id: string) {
    await this.requireUser(id);
    const devices = (await this.presence.devicesOf([id])).get(id) ?? new Map();
    return [...devices].map(([deviceId, p]) => ({
      deviceId,
      connectedAt: new Date(p.connectedAt).toISOString(),
    }));
  }

  @Delete(':id/sessions')
  @HttpCode(204)
  async closeSessions(@Param('id') id: string) {
    await this.requireUser(id);
    const devices = (await this.presence.devicesOf([id])).get(id) ?? new Map();
    const gateways = new Set([...devices.values()].map((p) => p.gatewayId));
    await this.bus.publishMany(
      [...gateways].map((gatewayId) => ({
        gatewayId,
        envelope: {
          kind: 'close',
          userId: id,
          code: CloseCode.unauthorized,
          reason: 'session revoked',
        } as const,
      })),
    );
  }

  private async requireUser(id: string) {
    const user = await this.users.get(id);
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }
}
