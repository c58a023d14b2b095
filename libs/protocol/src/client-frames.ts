import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { CLIENT_ID_PATTERN, ENTITY_ID_PATTERN } from './identifiers';

/** Seqs are PostgreSQL bigints handled as JS numbers: anything above this is refused at the edge. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const SEND_CONTENT_TYPES = ['text', 'image', 'file', 'custom'] as const;
export type SendContentType = (typeof SEND_CONTENT_TYPES)[number];
/** Messages that act on another message (its `targetSeq`) instead of saying something. */
export const CONTROL_CONTENT_TYPES = ['recall', 'edit', 'reaction'] as const;
export type ControlContentType = (typeof CONTROL_CONTENT_TYPES)[number];
export const isControlContentType = (contentType: string): contentType is ControlContentType =>
  (CONTROL_CONTENT_TYPES as readonly string[]).includes(contentType);
/** A send mentions at most this many members. */
export const MENTIONS_MAX = 50;
export const REACTION_OPS = ['add', 'remove'] as const;
export type ReactionOp = (typeof REACTION_OPS)[number];

const clientId = (field: string) => ({ message: `${field} must be 1-64 characters of [A-Za-z0-9_-]` });
const entityId = (field: string) => ({ message: `${field} must be 1-64 characters of [A-Za-z0-9_.:-]` });

abstract class Frame {
  @Allow()
  type: string;
}

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

export class EditFrame extends Frame {
  declare type: 'edit';
  @Matches(CLIENT_ID_PATTERN, clientId('clientMsgId')) clientMsgId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(1) @Max(MAX_SEQ) targetSeq: number;
  @IsDefined() @IsObject({ message: 'body must be a JSON object' }) body: Record<string, unknown>;
}

export class ReactFrame extends Frame {
  declare type: 'react';
  @Matches(CLIENT_ID_PATTERN, clientId('clientMsgId')) clientMsgId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(1) @Max(MAX_SEQ) targetSeq: number;
  /** 1-32 characters without whitespace; the length is checked in code points (frame rules). */
  @IsString({ message: 'emoji must be a string' }) emoji: string;
  @IsIn(REACTION_OPS, { message: 'op must be add or remove' }) op: ReactionOp;
}

export class HideFrame extends Frame {
  declare type: 'hide';
  @Matches(CLIENT_ID_PATTERN, clientId('reqId')) reqId: string;
  @Matches(ENTITY_ID_PATTERN, entityId('conversationId')) conversationId: string;
  @IsInt() @Min(1) @Max(MAX_SEQ) seq: number;
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
