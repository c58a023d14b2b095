// Node entry point: everything of the browser-safe core plus the JSON file outbox.
export * from './index';
export { FileOutboxStorage } from './file-outbox-storage';
