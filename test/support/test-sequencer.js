// Runs the specs that restart Kafka, PostgreSQL and Redis (outages, the chaos profile) after all the
// others, so that no other spec meets a shared service still recovering from it.
const Sequencer = require('@jest/test-sequencer').default;

class DisruptiveLastSequencer extends Sequencer {
  sort(tests) {
    const disruptive = (t) => /chaos|outages/.test(t.path);
    const sorted = super.sort(tests);
    return Promise.resolve(sorted).then((list) => [...list.filter((t) => !disruptive(t)), ...list.filter(disruptive)]);
  }
}

module.exports = DisruptiveLastSequencer;
