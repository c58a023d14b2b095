import { Logger } from '@nestjs/common';
import { ConsumerSupervisor, type GroupMember } from './consumer-supervisor';

/** A member whose joins fail while `refuse` > 0, recording what the supervisor asked of it. */
class FakeMember implements GroupMember {
  refuse = 0;
  readonly calls: string[] = [];
  async join() {
    this.calls.push('join');
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('broker unreachable');
    }
  }
  async abandon() {
    this.calls.push('abandon');
  }
  async leave() {
    this.calls.push('leave');
  }
}

const quiet = new Logger('spec');
jest.spyOn(quiet, 'warn').mockImplementation(() => undefined);
jest.spyOn(quiet, 'error').mockImplementation(() => undefined);

function supervised(member: FakeMember) {
  const counts = { commit: 0, checkStalled: 0, heartbeat: 0 };
  const supervisor = new ConsumerSupervisor(member, quiet, {
    commit: async () => void counts.commit++,
    checkStalled: () => counts.checkStalled++,
    more: [{ everyMs: 1000, run: () => counts.heartbeat++ }],
  });
  return { supervisor, counts };
}

describe('ConsumerSupervisor', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries a join that fails, abandoning each failed attempt, and runs the chores only once joined', async () => {
    const member = new FakeMember();
    member.refuse = 2;
    const { supervisor, counts } = supervised(member);
    const started = supervisor.start(Date.now() + 60_000);
    await jest.advanceTimersByTimeAsync(400);
    expect(counts.commit).toBe(0);
    await jest.advanceTimersByTimeAsync(2000);
    await started;
    expect(member.calls).toEqual(['join', 'abandon', 'join', 'abandon', 'join']);
    supervisor.stop();
  });

  it('commits every 500 ms, checks for a stall every 5 s and runs the extra chores on their interval', async () => {
    const { supervisor, counts } = supervised(new FakeMember());
    await supervisor.start();
    await jest.advanceTimersByTimeAsync(5000);
    expect(counts).toEqual({ commit: 10, checkStalled: 1, heartbeat: 5 });
    supervisor.stop();
  });

  it('gives up with the last error once the deadline has passed', async () => {
    const member = new FakeMember();
    member.refuse = 100;
    const { supervisor } = supervised(member);
    const started = supervisor.start(Date.now() + 1000);
    const outcome = expect(started).rejects.toThrow('broker unreachable');
    await jest.advanceTimersByTimeAsync(5000);
    await outcome;
  });

  it('restarts one at a time, and tries a failed restart again until it works', async () => {
    const member = new FakeMember();
    const { supervisor } = supervised(member);
    await supervisor.start();
    member.calls.length = 0;
    member.refuse = 1;
    const first = supervisor.restart('for a test');
    expect(supervisor.isRestarting()).toBe(true);
    await supervisor.restart('again at once'); // ignored: one restart at a time
    await jest.advanceTimersByTimeAsync(1000);
    await first;
    expect(member.calls).toEqual(['leave', 'join', 'abandon', 'join']);
    expect(supervisor.isRestarting()).toBe(false);
    supervisor.stop();
  });

  it('restarts nothing and runs no chore after stop()', async () => {
    const member = new FakeMember();
    const { supervisor, counts } = supervised(member);
    await supervisor.start();
    supervisor.stop();
    await supervisor.restart('too late');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(member.calls).toEqual(['join']);
    expect(counts).toEqual({ commit: 0, checkStalled: 0, heartbeat: 0 });
  });

  it('a restart that keeps failing past its start deadline is scheduled again', async () => {
    const member = new FakeMember();
    const { supervisor } = supervised(member);
    await supervisor.start();
    member.calls.length = 0;
    member.refuse = Infinity;
    void supervisor.restart('broker gone');
    await jest.advanceTimersByTimeAsync(127_000);
    expect(supervisor.isRestarting()).toBe(false);
    member.refuse = 0;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(member.calls.filter((c) => c === 'leave').length).toBe(2);
    expect(member.calls.at(-1)).toBe('join');
    supervisor.stop();
  });
});
