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
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  ConversationsRepository,
  CursorsRepository,
  MessagesRepository,
  TraceRepository,
  UsersRepository,
} from '@im/database';
import { messageFrame } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { AdminGuard } from './admin.guard';
import {
  AddMembersDto,
  AdminRecallDto,
  ConversationsPageQuery,
  CreateConversationDto,
  MessagesQuery,
  SystemMessageDto,
} from './admin.dto';
import { SystemMessagesService } from './system-messages.service';

@Controller('admin')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly users: UsersRepository,
    private readonly messages: MessagesRepository,
    private readonly cursors: CursorsRepository,
    private readonly membership: MembershipService,
    private readonly systemMessages: SystemMessagesService,
    private readonly traces: TraceRepository,
  ) {}

  @Post('conversations')
  async create(@Body() dto: CreateConversationDto, @Res({ passthrough: true }) res: Response) {
    const memberIds = [...new Set(dto.memberIds)];
    await this.requireUsers(memberIds);
    if (dto.type === 'direct') {
      if (memberIds.length !== 2)
        throw new BadRequestException('a direct conversation has exactly 2 distinct members');
      const { conversation, created } = await this.conversations.findOrCreateDirect(
        randomUUID(),
        memberIds[0],
        memberIds[1],
        dto.title ?? null,
      );
      res.status(created ? 201 : 200);
      return this.view(conversation);
    }
    return this.view(await this.conversations.createGroup(randomUUID(), dto.title ?? null, memberIds));
  }

  /** Conversations by id (optionally of one member), a page at a time: pass `next` as `after`. */
  @Get('conversations')
  async listConversations(@Query() query: ConversationsPageQuery) {
    const limit = query.limit ?? 100;
    const ids = await this.conversations.pageIds(query.memberId, query.after, limit);
    const conversations = await Promise.all(ids.map(async (id) => this.conversations.get(id)));
    return {
      conversations: conversations
        .filter((c) => c !== null)
        .map((c) => ({ ...this.view(c), lastSeq: c.lastSeq })),
      next: ids.length === limit ? ids[ids.length - 1] : null,
    };
  }

  @Get('conversations/:id')
  async get(@Param('id') id: string) {
    const conversation = await this.require(id);
    return { ...this.view(conversation), lastSeq: conversation.lastSeq };
  }

  @Post('conversations/:id/members')
  @HttpCode(200)
  async addMembers(@Param('id') id: string, @Body() dto: AddMembersDto) {
    const conversation = await this.require(id);
    if (conversation.type !== 'group') throw new BadRequestException('members can be added to groups only');
    await this.requireUsers(dto.userIds);
    await this.conversations.addMembers(id, [...new Set(dto.userIds)]);
    await this.membership.invalidate(id);
    return this.view((await this.conversations.get(id))!);
  }

  @Delete('conversations/:id/members/:userId')
  @HttpCode(204)
  async removeMember(@Param('id') id: string, @Param('userId') userId: string) {
    await this.require(id);
    if (!(await this.conversations.removeMember(id, userId)))
      throw new NotFoundException(`user ${userId} is not a member of ${id}`);
    await this.membership.invalidate(id);
  }

  @Get('conversations/:id/messages')
  async list(@Param('id') id: string, @Query() query: MessagesQuery) {
    await this.require(id);
    const page = await this.messages.after(id, query.afterSeq ?? 0, query.limit ?? 50);
    return { messages: page.messages.map(messageFrame), hasMore: page.hasMore };
  }

  @Post('conversations/:id/messages')
  async postSystemMessage(@Param('id') id: string, @Body() dto: SystemMessageDto) {
    return this.systemMessages.post(id, dto.clientMsgId, dto.body);
  }

  /** An admin recall: any message, no time window; answered like a send once durable. */
  @Post('conversations/:id/recall')
  async recall(@Param('id') id: string, @Body() dto: AdminRecallDto) {
    return this.systemMessages.post(id, dto.clientMsgId, { targetSeq: dto.targetSeq }, 'recall');
  }

  /** The message's lifecycle: the time of each stage, per-device delivery and per-member read. */
  @Get('messages/:messageId/trace')
  async trace(@Param('messageId') messageId: string) {
    const trace = /^[0-9a-f-]{36}$/i.test(messageId) ? await this.traces.trace(messageId) : null;
    if (!trace) throw new NotFoundException(`message ${messageId} not found`);
    return trace;
  }

  @Get('messages/:messageId')
  async message(@Param('messageId') messageId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(messageId)) throw new NotFoundException(`message ${messageId} not found`);
    const message = await this.messages.byMessageId(messageId);
    if (!message) throw new NotFoundException(`message ${messageId} not found`);
    return { ...messageFrame(message), members: await this.cursors.forConversation(message.conversationId) };
  }

  private view(c: { id: string; type: string; title: string | null; memberIds: string[] }) {
    return { id: c.id, type: c.type, title: c.title, memberIds: c.memberIds };
  }

  private async require(id: string) {
    const conversation = await this.conversations.get(id);
    if (!conversation) throw new NotFoundException(`conversation ${id} not found`);
    return conversation;
  }

  private async requireUsers(ids: string[]) {
    const missing = await this.users.missing(ids);
    if (missing.length > 0) throw new NotFoundException(`unknown users: ${missing.join(', ')}`);
  }
}
