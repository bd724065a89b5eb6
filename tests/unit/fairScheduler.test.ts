import { describe, expect, it } from 'vitest';
import { FairScheduler, type LaneFlow } from '../../src-main/cli/fairScheduler';
import { DEFAULT_SERVER_LIMITS } from '../../src-main/cli/serverLimits';

/** A client as the scheduler sees it: whether it can take more answers, and whether it is read. */
class FakeFlow implements LaneFlow {
  open = true;
  paused = false;
  pauses = 0;
  writable(): boolean {
    return this.open;
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
}

const settle = () => new Promise((done) => setImmediate(done));
async function drain(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await settle();
}

describe('FairScheduler', () => {
  it('takes calls from each client in turn, so a flood does not go first', async () => {
    const scheduler = new FairScheduler({ ...DEFAULT_SERVER_LIMITS, roundCalls: 4 });
    const order: string[] = [];
    const flood = scheduler.open(new FakeFlow());
    const other = scheduler.open(new FakeFlow());
    for (let i = 0; i < 20; i++) flood.submit(1, async () => void order.push(`flood${i}`));
    other.submit(1, async () => void order.push('other'));
    await drain();
    expect(order).toHaveLength(21);
    expect(order.indexOf('other')).toBeLessThanOrEqual(1);
  });

  it('runs at most perClientRunning calls of one client at once and in order of arrival', async () => {
    const scheduler = new FairScheduler({ ...DEFAULT_SERVER_LIMITS, perClientRunning: 2 });
    const lane = scheduler.open(new FakeFlow());
    let running = 0;
    let most = 0;
    const started: number[] = [];
    for (let i = 0; i < 10; i++) {
      lane.submit(1, async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await settle();
        running--;
      });
    }
    await drain();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(2);
  });

  it('stops reading a client whose queue is full, reads it again once half has drained, and refuses past maxQueued', async () => {
    const scheduler = new FairScheduler({ ...DEFAULT_SERVER_LIMITS, pauseQueued: 4, maxQueued: 6 });
    const flow = new FakeFlow();
    const lane = scheduler.open(flow);
    const accepted = Array.from({ length: 8 }, () => lane.submit(1, async () => undefined));
    expect(flow.paused).toBe(true);
    expect(accepted).toEqual([true, true, true, true, true, true, false, false]);
    await drain();
    expect(flow.paused).toBe(false);
  });

  it('holds a client that does not read its answers, and runs its calls once it does', async () => {
    const scheduler = new FairScheduler(DEFAULT_SERVER_LIMITS);
    const flow = new FakeFlow();
    flow.open = false;
    const lane = scheduler.open(flow);
    let ran = 0;
    lane.submit(1, async () => void ran++);
    await drain();
    expect(ran).toBe(0);
    expect(flow.paused).toBe(true);
    flow.open = true;
    lane.wake();
    await drain();
    expect(ran).toBe(1);
    expect(flow.paused).toBe(false);
  });

  it('drops what a closed client still had waiting', async () => {
    const scheduler = new FairScheduler(DEFAULT_SERVER_LIMITS);
    const flow = new FakeFlow();
    flow.open = false;
    const lane = scheduler.open(flow);
    let ran = 0;
    lane.submit(1, async () => void ran++);
    lane.close();
    flow.open = true;
    lane.wake();
    await drain();
    expect(ran).toBe(0);
  });
});
