export * from './identifiers';
export * from './errors';
export * from './content-types';
export * from './message-action-frames';
export * from './client-frames';
export * from './server-frames';
export * from './validate-frame';
export { checkBody, EMOJI_MAX } from './frame-rules';
