import { clientId, entityId, Frame } from './frame-base';
import { EditFrame, HideFrame, ReactFrame } from './message-action-frames';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { MAX_SEQ, MENTIONS_MAX, SEND_CONTENT_TYPES, type SendContentType } from './content-types';
import { CLIENT_ID_PATTERN, ENTITY_ID_PATTERN } from './identifiers';

export class SendFrame extends Frame {
  declare type: 'send';
  @Matches(CLIENT_ID_PATTERN, clientId('clientMsgId')) clientMsgId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsIn(SEND_CONTENT_TYPES, { message: `contentType must be one of ${SEND_CONTENT_TYPES.join(', ')}` })
  contentType: SendContentType;
  @IsDefined() @IsObject({ message: 'body must be a JSON object' }) body: Record<string, unknown>;
  /** The seq of the message this one answers. */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_SEQ) replyTo?: number;
  @IsOptional()
  @IsArray({ message: 'mentions must be an array of user ids' })
  @ArrayMinSize(1, { message: 'mentions must name at least one user' })
  @ArrayMaxSize(MENTIONS_MAX, { message: `mentions may name at most ${MENTIONS_MAX} users` })
  @ArrayUnique({ message: 'mentions must not repeat a user' })
  @Matches(ENTITY_ID_PATTERN, {
    each: true,
    message: 'each mention must be a user id of 1-64 characters of [A-Za-z0-9_.:-]',
  })
  mentions?: string[];
}

export class RecallFrame extends Frame {
  declare type: 'recall';
  @Matches(CLIENT_ID_PATTERN, clientId('clientMsgId')) clientMsgId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(1) @Max(MAX_SEQ) targetSeq: number;
}

export class DeliverAckFrame extends Frame {
  declare type: 'deliver_ack';
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(0) @Max(MAX_SEQ) seq: number;
}

export class ReadFrame extends Frame {
  declare type: 'read';
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(0) @Max(MAX_SEQ) seq: number;
}

export class SyncFrame extends Frame {
  declare type: 'sync';
  @Matches(CLIENT_ID_PATTERN, clientId('reqId')) reqId: string;
  /** conversationId → afterSeq; checked entry by entry in validateClientFrame. */
  @IsOptional() @IsObject() cursors?: Record<string, number>;
  @IsOptional() @IsInt() @Min(1) @Max(200) limit?: number;
}

export class HistoryFrame extends Frame {
  declare type: 'history';
  @Matches(CLIENT_ID_PATTERN, clientId('reqId')) reqId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsOptional() @IsInt() @Min(0) @Max(MAX_SEQ) afterSeq?: number;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_SEQ) beforeSeq?: number;
  @IsOptional() @IsInt() @Min(1) @Max(200) limit?: number;
}

export class ConversationsFrame extends Frame {
  declare type: 'conversations';
  @Matches(CLIENT_ID_PATTERN, clientId('reqId')) reqId: string;
}

export class ReceiptsFrame extends Frame {
  declare type: 'receipts';
  @Matches(CLIENT_ID_PATTERN, clientId('reqId')) reqId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(1) @Max(MAX_SEQ) seq: number;
}

export class TypingFrame extends Frame {
  declare type: 'typing';
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
}

export class PingFrame extends Frame {
  declare type: 'ping';
}

/** Every client → server frame, by its `type`. */
export const CLIENT_FRAME_CLASSES = {
  send: SendFrame,
  edit: EditFrame,
  react: ReactFrame,
  hide: HideFrame,
  recall: RecallFrame,
  deliver_ack: DeliverAckFrame,
  read: ReadFrame,
  sync: SyncFrame,
  history: HistoryFrame,
  conversations: ConversationsFrame,
  receipts: ReceiptsFrame,
  typing: TypingFrame,
  ping: PingFrame,
} as const;

export type ClientFrameType = keyof typeof CLIENT_FRAME_CLASSES;
export type ClientFrameMap = { [K in ClientFrameType]: InstanceType<(typeof CLIENT_FRAME_CLASSES)[K]> };
export type ClientFrame = ClientFrameMap[ClientFrameType];
