// Runs the tiers in order, unit → medium → e2e, so that a failure is reported at the cheapest
// tier that shows it; and within e2e the specs that restart Kafka, PostgreSQL and Redis
// (outages, the chaos profile) last, so that no other spec meets a shared service still
// recovering from it.
const Sequencer = require('@jest/test-sequencer').default;

const rank = (t) => {
  if (t.path.endsWith('.medium-spec.ts')) return 1;
  if (!t.path.endsWith('.e2e-spec.ts')) return 0;
  return /chaos|outages/.test(t.path) ? 3 : 2;
};

class TierSequencer extends Sequencer {
  sort(tests) {
    return Promise.resolve(super.sort(tests)).then((list) =>
      list.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map(({ t }) => t),
    );
  }
}

module.exports = TierSequencer;
