import {
  ArrayMaxSize,
  ArrayMinSize,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Type } from 'class-transformer';
import { CLIENT_ID_PATTERN, ENTITY_ID_PATTERN } from '@im/protocol';

const entity = { message: 'ids are 1-64 characters of [A-Za-z0-9_.:-]' };
const entities = { each: true, message: 'ids are 1-64 characters of [A-Za-z0-9_.:-]' };

export class CreateUserDto {
  @IsOptional() @Matches(ENTITY_ID_PATTERN, entity) id?: string;
  @IsOptional() @IsString() @MaxLength(200) displayName?: string;
}

export class IssueTokenDto {
  @IsOptional() @IsInt() @Min(60) @Max(30 * 24 * 3600) ttlSeconds?: number;
}

export class CreateConversationDto {
  @IsIn(['direct', 'group']) type: 'direct' | 'group';
  @ArrayMinSize(1) @ArrayMaxSize(10000) @Matches(ENTITY_ID_PATTERN, entities) memberIds: string[];
  @IsOptional() @IsString() @MaxLength(200) title?: string;
}

/** PATCH /admin/conversations/{id}: null clears the title, or follows RETENTION_DAYS again. */
export class UpdateConversationDto {
  @IsOptional() @IsString() @MaxLength(200) title?: string | null;
  @IsOptional() @IsInt() @Min(1) @Max(36500) retentionDays?: number | null;
}

export class AddMembersDto {
  @ArrayMinSize(1) @ArrayMaxSize(10000) @Matches(ENTITY_ID_PATTERN, entities) userIds: string[];
}

export class SystemMessageDto {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientMsgId must be 1-64 characters of [A-Za-z0-9_-]' })
  clientMsgId: string;
  @IsObject() body: Record<string, unknown>;
}

export class BroadcastDto {
  @ArrayMinSize(1) @ArrayMaxSize(100000) @Matches(ENTITY_ID_PATTERN, entities) userIds: string[];
  @IsObject() body: Record<string, unknown>;
}

export class MessagesQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) afterSeq?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
}

export class AdminRecallDto {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientMsgId must be 1-64 characters of [A-Za-z0-9_-]' })
  clientMsgId: string;
  @IsInt() @Min(1) targetSeq: number;
}

export class PageQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  /** The last id of the previous page. */
  @IsOptional() @Matches(ENTITY_ID_PATTERN, entity) after?: string;
}

export class ConversationsPageQuery extends PageQuery {
  @IsOptional() @Matches(ENTITY_ID_PATTERN, entity) memberId?: string;
}
