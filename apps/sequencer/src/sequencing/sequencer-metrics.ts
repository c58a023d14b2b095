import { metrics } from '@im/metrics';

export const dedupeHits = metrics.counter(
  'im_sequencer_dedupe_hits_total',
  'Sends recognised as retries by clientMsgId',
);
export const sequenced = metrics.counter('im_sequencer_messages_total', 'Messages sequenced');
export const fencedClaims = metrics.counter(
  'im_sequencer_fenced_total',
  'Conversations renumbered from a new block because another instance had numbered above this one',
);
