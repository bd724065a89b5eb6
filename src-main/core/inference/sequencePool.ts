import type { LlamaChat, LlamaContextSequence, Token } from 'node-llama-cpp';
import { HearthError } from '../common/hearthError';

/** One context sequence with the chat that generates on it. */
export interface PooledSequence {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
}

/** What a generation asks the pool for. */
export interface SequenceRequest {
  /** The conversation (a chat's thread id): it gets back the sequence that last served it. */
  key?: string | null;
  /** The prompt's tokens: without a key, the sequence already holding most of them is chosen. */
  tokens?: readonly Token[];
  /** Aborting it while the request waits for a free sequence rejects it with CANCELLED. */
  signal?: AbortSignal;
}

/** A sequence lent to one generation; release it when the generation ends. */
export interface SequenceLease {
  readonly sequence: LlamaContextSequence;
  readonly chat: LlamaChat;
  /** Which of the pool's sequences this is. */
  readonly index: number;
  /** How many of the prompt's first tokens the sequence held already (0 without tokens). */
  readonly cachedTokens: number;
  /** Tokens evaluated on this sequence since it was lent (the prompt's new part and the reply). */
  evaluatedTokens(): number;
  release(): void;
}

/** What one lease cost, recorded when it is released (the last RECENT_LEASES are kept). */
export interface LeaseReport {
  key: string | null;
  index: number;
  /** Prompt tokens the sequence held already. */
  cachedTokens: number;
  /** Tokens evaluated while it was lent: the prompt's new part, then each reply token but the last. */
  evaluatedTokens: number;
  /** Tokens the sequence held when it was released (prompt and reply). */
  tokensHeld: number;
}

const RECENT_LEASES = 32;

/** The pool's counters, for the runtime status, tests and the bench. */
export interface SequencePoolStats {
  sequences: number;
  busy: number;
  waiting: number;
  /** Sequences holding an evaluated conversation. */
  warm: number;
}

interface Slot {
  index: number;
  pooled: PooledSequence;
  key: string | null;
  lastUsed: number;
  busy: boolean;
}

interface Waiter {
  request: SequenceRequest;
  resolve(lease: SequenceLease): void;
  reject(error: unknown): void;
}

/**
 * A prompt continues a sequence's conversation when it starts with at least this share of what
 * the sequence holds; a new conversation that only shares a system prompt does not take a
 * warm sequence over (the least recently used one is reused, keeping the others warm).
 */
const CONTINUATION_SHARE = 0.5;

/**
 * Lends the context's sequences to generations, so each conversation comes back to the
 * sequence that already holds it: node-llama-cpp then evaluates only the tokens after the
 * part the sequence holds (the new turn), instead of the whole history. A request with a key
 * takes its conversation's sequence when it is free; without one, the free sequence whose
 * evaluated tokens its prompt continues; otherwise the least recently used free sequence (a
 * shared prefix such as a system prompt is still reused there). With every sequence busy,
 * requests wait in order of arrival; none is dropped.
 */
export class SequencePool {
  private readonly slots: Slot[];
  private readonly waiters: Waiter[] = [];
  private readonly reports: LeaseReport[] = [];
  private drainWaiters: (() => void)[] = [];
  private clock = 0;
  private disposed = false;

  constructor(sequences: readonly PooledSequence[]) {
    if (sequences.length === 0) throw new Error('a sequence pool needs at least one sequence');
    this.slots = sequences.map((pooled, index) => ({ index, pooled, key: null, lastUsed: 0, busy: false }));
  }

  get size(): number {
    return this.slots.length;
  }

  stats(): SequencePoolStats {
    return {
      sequences: this.slots.length,
      busy: this.slots.filter((slot) => slot.busy).length,
      waiting: this.waiters.length,
      warm: this.slots.filter((slot) => slot.pooled.sequence.nextTokenIndex > 0).length,
    };
  }

  /** Tokens evaluated (input) and sampled (output) on all sequences since the model loaded. */
  usedTokens(): { input: number; output: number } {
    let input = 0;
    let output = 0;
    for (const slot of this.slots) {
      input += slot.pooled.sequence.tokenMeter.usedInputTokens;
      output += slot.pooled.sequence.tokenMeter.usedOutputTokens;
    }
    return { input, output };
  }

  /** The sequence last lent to this conversation, while it still holds it; null otherwise. */
  heldBy(key: string): LlamaContextSequence | null {
    return this.slots.find((slot) => slot.key === key)?.pooled.sequence ?? null;
  }

  /** Forgets every free sequence's conversation (benchmarks start cold with it). */
  async clearFree(): Promise<void> {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      slot.key = null;
      await slot.pooled.sequence.clearHistory();
    }
  }

  /** The most recent leases' costs, oldest first. */
  recent(): readonly LeaseReport[] {
    return [...this.reports];
  }

  /** Lends a sequence now when one is free, else when one is released (in order of arrival). */
  acquire(request: SequenceRequest = {}): Promise<SequenceLease> {
    if (this.disposed) return Promise.reject(unloaded());
    if (request.signal?.aborted) return Promise.reject(cancelled());
    if (this.waiters.length === 0) {
      const slot = this.choose(request);
      if (slot) return Promise.resolve(this.lend(slot, request));
    }
    return new Promise<SequenceLease>((resolve, reject) => {
      const { signal } = request;
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(cancelled());
      };
      const waiter: Waiter = {
        request,
        resolve: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Acquires a sequence, runs `use` with it and releases it, even when `use` throws. */
  async withSequence<T>(request: SequenceRequest, use: (lease: SequenceLease) => Promise<T>): Promise<T> {
    const lease = await this.acquire(request);
    try {
      return await use(lease);
    } finally {
      lease.release();
    }
  }

  /** The model is being unloaded: waiting requests fail with MODEL_NOT_LOADED, new ones too. */
  dispose(): void {
    this.disposed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(unloaded());
  }

  /** Resolves once no sequence is lent (the generations on them have ended). */
  drained(): Promise<void> {
    if (!this.slots.some((slot) => slot.busy)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private choose(request: SequenceRequest): Slot | null {
    const free = this.slots.filter((slot) => !slot.busy);
    if (free.length === 0) return null;
    if (request.key) {
      const own = free.find((slot) => slot.key === request.key);
      if (own) return own;
    }
    if (request.tokens && request.tokens.length > 0) {
      let best: Slot | null = null;
      let bestShared = 0;
      for (const slot of free) {
        const held = slot.pooled.sequence.contextTokens;
        const shared = sharedPrefix(held, request.tokens);
        if (held.length > 0 && shared >= held.length * CONTINUATION_SHARE && shared > bestShared) {
          best = slot;
          bestShared = shared;
        }
      }
      if (best) return best;
    }
    return free.reduce((oldest, slot) => (slot.lastUsed < oldest.lastUsed ? slot : oldest));
  }

  private lend(slot: Slot, request: SequenceRequest): SequenceLease {
    slot.busy = true;
    slot.key = request.key ?? null;
    slot.lastUsed = ++this.clock;
    const { sequence, chat } = slot.pooled;
    const meterAtStart = sequence.tokenMeter.usedInputTokens;
    const cachedTokens = request.tokens ? sharedPrefix(sequence.contextTokens, request.tokens) : 0;
    const evaluatedTokens = () => sequence.tokenMeter.usedInputTokens - meterAtStart;
    let released = false;
    return {
      sequence,
      chat,
      index: slot.index,
      cachedTokens,
      evaluatedTokens,
      release: () => {
        if (released) return;
        released = true;
        this.reports.push({ key: slot.key, index: slot.index, cachedTokens, evaluatedTokens: evaluatedTokens(), tokensHeld: sequence.nextTokenIndex });
        if (this.reports.length > RECENT_LEASES) this.reports.shift();
        slot.busy = false;
        slot.lastUsed = ++this.clock;
        this.handOut();
        if (!this.slots.some((other) => other.busy)) for (const resolve of this.drainWaiters.splice(0)) resolve();
      },
    };
  }

  /** Gives freed sequences to waiting requests, first come first served. */
  private handOut(): void {
    while (this.waiters.length > 0 && !this.disposed) {
      const waiter = this.waiters[0]!;
      const slot = this.choose(waiter.request);
      if (!slot) return;
      this.waiters.shift();
      waiter.resolve(this.lend(slot, waiter.request));
    }
  }
}

/** How many first tokens two lists share. */
export function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function cancelled(): HearthError {
  return new HearthError('CANCELLED', 'The request was cancelled while it waited for the model.');
}

function unloaded(): HearthError {
  return new HearthError('MODEL_NOT_LOADED', 'The model was unloaded before it could answer.');
}
