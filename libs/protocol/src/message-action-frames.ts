import { IsDefined, IsIn, IsInt, IsObject, IsString, Matches, Max, Min } from 'class-validator';
import { MAX_SEQ, REACTION_OPS, type ReactionOp } from './content-types';
import { clientId, entityId, Frame } from './frame-base';
import { CLIENT_ID_PATTERN, ENTITY_ID_PATTERN } from './identifiers';

/** Frames that act on a stored message: an edit and a reaction become messages themselves; hide does not. */
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
