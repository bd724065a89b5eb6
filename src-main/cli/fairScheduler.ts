import type { ServerLimits } from './serverLimits';

type SchedulerLimits = Pick<
  ServerLimits,
  'concurrency' | 'perClientRunning' | 'pauseQueued' | 'pauseQueuedBytes' | 'maxQueued' | 'roundCalls'
>;

/** How a lane reaches its connection: is there room to send, and stop or restart reading it. */
export interface LaneFlow {
  /** False while the client has too many unsent bytes: its calls wait, and it is not read. */
  writable(): boolean;
  pause(): void;
  resume(): void;
}

interface QueuedCall {
  bytes: number;
  run: () => Promise<void>;
}

/**
 * One client's queue of calls. Its calls run in order of arrival, at most perClientRunning at
 * once; past pauseQueued waiting calls (or pauseQueuedBytes) its socket is no longer read, so a
 * pipelining client is slowed by TCP instead of filling memory, and it is read again once half
 * the queue has drained and its unsent replies have gone out.
 */
export class Lane {
  readonly queue: QueuedCall[] = [];
  queuedBytes = 0;
  running = 0;
  /** In the scheduler's ready ring. */
  ready = false;
  closed = false;
  private paused = false;

  constructor(
    private readonly scheduler: FairScheduler,
    private readonly limits: SchedulerLimits,
    readonly flow: LaneFlow,
  ) {}

  /** Queues a call; false when the client already has maxQueued waiting (answer it BUSY). */
  submit(bytes: number, run: () => Promise<void>): boolean {
    if (this.closed) return true;
    if (this.queue.length >= this.limits.maxQueued) return false;
    this.queue.push({ bytes, run });
    this.queuedBytes += bytes;
    this.updateFlow();
    this.scheduler.offer(this);
    return true;
  }

  /** Something changed outside (a reply went out): re-check reading and running. */
  wake(): void {
    if (this.closed) return;
    this.updateFlow();
    this.scheduler.offer(this);
  }

  /** Whether a call of this lane may start now. */
  runnable(): boolean {
    return !this.closed && this.queue.length > 0 && this.running < this.limits.perClientRunning && this.flow.writable();
  }

  take(): QueuedCall | undefined {
    const call = this.queue.shift();
    if (call) this.queuedBytes -= call.bytes;
    return call;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  updateFlow(): void {
    if (this.closed) return;
    const full = this.queue.length >= this.limits.pauseQueued || this.queuedBytes >= this.limits.pauseQueuedBytes;
    const drained = this.queue.length <= this.limits.pauseQueued / 2 && this.queuedBytes < this.limits.pauseQueuedBytes / 2;
    const writable = this.flow.writable();
    if (!this.paused && (full || !writable)) {
      this.paused = true;
      this.flow.pause();
    } else if (this.paused && drained && writable) {
      this.paused = false;
      this.flow.resume();
    }
  }
}

/**
 * Runs the calls of all clients fairly: each client has its own queue (a Lane), and the
 * scheduler takes one call from each ready lane in turn (round robin), at most `concurrency`
 * running at once. It starts at most roundCalls calls per round and then yields to the event
 * loop (setImmediate), so a frame from another client is read and queued between rounds and
 * waits behind one round, not behind a flood.
 */
export class FairScheduler {
  private readonly ring: Lane[] = [];
  private running = 0;
  private pumpQueued = false;

  constructor(private readonly limits: SchedulerLimits) {}

  open(flow: LaneFlow): Lane {
    return new Lane(this, this.limits, flow);
  }

  /** Puts a lane with runnable work in the ring (once) and makes sure a round will come. */
  offer(lane: Lane): void {
    if (!lane.ready && lane.runnable()) {
      lane.ready = true;
      this.ring.push(lane);
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpQueued || this.ring.length === 0 || this.running >= this.limits.concurrency) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    let started = 0;
    while (started < this.limits.roundCalls && this.running < this.limits.concurrency) {
      const lane = this.ring.shift();
      if (!lane) break;
      lane.ready = false;
      if (!lane.runnable()) continue; // woken again by a finished call or a sent reply
      const call = lane.take();
      if (!call) continue;
      started++;
      this.start(lane, call);
      lane.updateFlow();
      if (lane.runnable()) {
        lane.ready = true;
        this.ring.push(lane);
      }
    }
    this.schedulePump();
  }

  private start(lane: Lane, call: QueuedCall): void {
    this.running++;
    lane.running++;
    const finish = () => {
      this.running--;
      lane.running--;
      lane.wake();
      this.schedulePump();
    };
    // A call's task answers its own errors; nothing it throws may stop the scheduler.
    call.run().then(finish, finish);
  }
}
