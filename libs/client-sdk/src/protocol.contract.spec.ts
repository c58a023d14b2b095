/**
 * The SDK declares the frames itself, to stay free of server code; this spec keeps the two
 * declarations one contract. Its checks are types: when a frame, a field, an error code or a
 * close code drifts between `libs/protocol` and the SDK, `npm run typecheck` (and this spec's
 * compilation) fails and names it. The runtime checks cover the constant lists.
 */
import * as Server from '@im/protocol';
import * as Sdk from './protocol';

/** Compile-time assertion: only `true` is accepted. */
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The keys of a type, required and optional alike. */
type Keys<T> = T extends unknown ? keyof T : never;
/** The keys of a map of checks whose check failed: `never` when all pass (else the error names them). */
type Failing<T> = { [K in keyof T]: T[K] extends true ? never : K }[keyof T];

// Server → client: the SDK knows every frame the server sends, reads every frame as the
// server builds it, and expects no field the server does not send.
type ServerTypes = Assert<Same<keyof Server.ServerFrameMap, keyof Sdk.ServerFrameMap>>;
type ServerFramesReadable = Assert<
  Same<
    Failing<{
      [K in keyof Server.ServerFrameMap]: Server.ServerFrameMap[K] extends Sdk.ServerFrameMap[K]
        ? true
        : false;
    }>,
    never
  >
>;
type ServerFieldNames = Assert<
  Same<
    Failing<{
      [K in keyof Server.ServerFrameMap]: Same<Keys<Server.ServerFrameMap[K]>, Keys<Sdk.ServerFrameMap[K]>>;
    }>,
    never
  >
>;
type MessageFields = Assert<Same<keyof Server.MessageView, keyof Sdk.Message>>;
type SummaryFields = Assert<Same<keyof Server.ConversationSummary, keyof Sdk.ConversationSummary>>;

// Client → server: every frame the SDK sends is one the server accepts, with the same fields.
type SdkFrameOf<K extends Server.ClientFrameType> = Extract<Sdk.ClientFrame, { type: K }>;
type ClientTypes = Assert<Same<Server.ClientFrameType, Sdk.ClientFrame['type']>>;
type ClientFramesDeclared = Assert<
  Same<Failing<{ [K in Server.ClientFrameType]: [SdkFrameOf<K>] extends [never] ? false : true }>, never>
>;
type ClientFramesAccepted = Assert<
  Same<
    Failing<{ [K in Server.ClientFrameType]: SdkFrameOf<K> extends Server.ClientFrameMap[K] ? true : false }>,
    never
  >
>;
type ClientFieldNames = Assert<
  Same<
    Failing<{ [K in Server.ClientFrameType]: Same<Keys<SdkFrameOf<K>>, Keys<Server.ClientFrameMap[K]>> }>,
    never
  >
>;
type ContentTypes = Assert<Same<Server.SendContentType, Sdk.SendContentType>>;
type ErrorCodes = Assert<Same<Server.ErrorCode, Sdk.ProtocolErrorCode>>;
type CloseCodes = Assert<Same<typeof Server.CloseCode, typeof Sdk.CloseCode>>;

export type ContractChecks = [
  ServerTypes,
  ServerFramesReadable,
  ServerFieldNames,
  MessageFields,
  SummaryFields,
  ClientTypes,
  ClientFramesDeclared,
  ClientFramesAccepted,
  ClientFieldNames,
  ContentTypes,
  ErrorCodes,
  CloseCodes,
];

describe('the SDK’s copy of the contract', () => {
  it('lists the server’s error codes and close codes, in the same order', () => {
    expect([...Sdk.PROTOCOL_ERROR_CODES]).toEqual([...Server.ERROR_CODES]);
    expect(Sdk.CloseCode).toEqual(Server.CloseCode);
  });
});
