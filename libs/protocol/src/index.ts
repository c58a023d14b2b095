export * from './identifiers';
export * from './errors';
export * from './client-frames';
export * from './server-frames';
export * from './validate-frame';
export { checkBody, EMOJI_MAX } from './frame-rules';
