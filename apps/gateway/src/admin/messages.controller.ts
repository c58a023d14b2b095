import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Get, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CursorsRepository, MessagesRepository, TraceRepository } from '@im/database';
import { messageFrame } from '@im/protocol';
import { AdminGuard } from './admin.guard';
import { AdminRecallDto, MessagesQuery, SystemMessageDto } from './admin.dto';
import { ConversationLookup } from './conversation-lookup';
import { SystemMessagesService } from './system-messages.service';

const isMessageId = (id: string) => /^[0-9a-f-]{36}$/i.test(id);

/** A conversation's messages as an operator sees and makes them. */
@Controller('admin')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class MessagesController {
  constructor(
    private readonly lookup: ConversationLookup,
    private readonly messages: MessagesRepository,
    private readonly cursors: CursorsRepository,
    private readonly traces: TraceRepository,
    private readonly systemMessages: SystemMessagesService,
  ) {}

  @Get('conversations/:id/messages')
  async list(@Param('id') id: string, @Query() query: MessagesQuery) {
    await this.lookup.require(id);
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
    const trace = isMessageId(messageId) ? await this.traces.trace(messageId) : null;
    if (!trace) throw new NotFoundException(`message ${messageId} not found`);
    return trace;
  }

  @Get('messages/:messageId')
  async message(@Param('messageId') messageId: string) {
    const message = isMessageId(messageId) ? await this.messages.byMessageId(messageId) : null;
    if (!message) throw new NotFoundException(`message ${messageId} not found`);
    return { ...messageFrame(message), members: await this.cursors.forConversation(message.conversationId) };
  }
}
