/** Client-chosen ids (clientMsgId, reqId, deviceId): 1–64 of [A-Za-z0-9_-]. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Ids of users and conversations: 1–64 of [A-Za-z0-9_.:-]. */
export const ENTITY_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The sender of admin system messages and broadcasts. */
export const SYSTEM_USER_ID = 'system';
