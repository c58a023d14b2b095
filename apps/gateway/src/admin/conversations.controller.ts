import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { ConversationsRepository } from '@im/database';
import { AdminGuard } from './admin.guard';
import {
  AddMembersDto,
  ConversationsPageQuery,
  CreateConversationDto,
  UpdateConversationDto,
} from './admin.dto';
import { ConversationLookup, conversationDetail, conversationView } from './conversation-lookup';
import { MembershipChanges } from './membership-changes';

/** Conversations and their members. */
@Controller('admin')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly lookup: ConversationLookup,
    private readonly changes: MembershipChanges,
  ) {}

  @Post('conversations')
  async create(@Body() dto: CreateConversationDto, @Res({ passthrough: true }) res: Response) {
    const memberIds = [...new Set(dto.memberIds)];
    await this.lookup.requireUsers(memberIds);
    if (dto.type === 'direct') {
      if (memberIds.length !== 2)
        throw new BadRequestException('a direct conversation has exactly 2 distinct members');
      const { conversation, created } = await this.changes.findOrCreateDirect(
        randomUUID(),
        memberIds[0],
        memberIds[1],
        dto.title ?? null,
      );
      res.status(created ? 201 : 200);
      return conversationView(conversation);
    }
    return conversationView(await this.changes.createGroup(randomUUID(), dto.title ?? null, memberIds));
  }

  /** Conversations by id (optionally of one member), a page at a time: pass `next` as `after`. */
  @Get('conversations')
  async listConversations(@Query() query: ConversationsPageQuery) {
    const limit = query.limit ?? 100;
    const ids = await this.conversations.pageIds(query.memberId, query.after, limit);
    const conversations = await Promise.all(ids.map(async (id) => this.conversations.get(id)));
    return {
      conversations: conversations.filter((c) => c !== null).map(conversationDetail),
      next: ids.length === limit ? ids[ids.length - 1] : null,
    };
  }

  @Get('conversations/:id')
  async get(@Param('id') id: string) {
    return conversationDetail(await this.lookup.require(id));
  }

  /** Title and retention (docs/protocol.md §5.4, §5.7); a field left out stays as it is. */
  @Patch('conversations/:id')
  async update(@Param('id') id: string, @Body() dto: UpdateConversationDto) {
    if (!(await this.conversations.updateSettings(id, dto)))
      throw new NotFoundException(`conversation ${id} not found`);
    return conversationDetail(await this.lookup.require(id));
  }

  @Post('conversations/:id/members')
  @HttpCode(200)
  async addMembers(@Param('id') id: string, @Body() dto: AddMembersDto) {
    const conversation = await this.lookup.require(id);
    if (conversation.type !== 'group') throw new BadRequestException('members can be added to groups only');
    await this.lookup.requireUsers(dto.userIds);
    await this.changes.addMembers(id, [...new Set(dto.userIds)]);
    return conversationView(await this.lookup.require(id));
  }

  @Delete('conversations/:id/members/:userId')
  @HttpCode(204)
  async removeMember(@Param('id') id: string, @Param('userId') userId: string) {
    await this.lookup.require(id);
    if (!(await this.changes.removeMember(id, userId)))
      throw new NotFoundException(`user ${userId} is not a member of ${id}`);
  }
}
