import type { ErrorCode, ErrorData } from '#contract/errors';
import { errorText } from '../util/format';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  /** An info toast's text; for an error, its code and server message (what the log says). */
  text: string;
  code: ErrorCode | null;
  /** An error toast's error, shown in words for people by ErrorMessage. */
  error: ErrorData | null;
  /** Runs the failed call again, where the caller can. */
  retry: (() => unknown) | null;
}

const ERROR_MS = 12_000;
const INFO_MS = 4_000;

/** Transient notices. Every failed call ends up here, so nothing fails silently. */
export class ToastStore {
  items = $state<Toast[]>([]);
  private nextId = 1;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, not UI state: nothing renders from it
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, not UI state: nothing renders from it
  private readonly lifetimes = new Map<number, number>();

  /** Shows a failed call's error (with a Retry button where `retry` is given) and logs its code. */
  error(error: ErrorData, retry?: () => unknown): void {
    const text = errorText(error);
    // A warning, not an error: the failure is handled, and the code stays in the log for support.
    console.warn(`Hearth: ${text}`);
    // The same failure repeated (a retry loop, a double click) shows once, freshly timed (or still held).
    const existing = this.items.find((t) => t.kind === 'error' && t.text === text);
    const held = existing !== undefined && !this.timers.has(existing.id);
    if (existing) this.dismiss(existing.id);
    const id = this.push({ kind: 'error', text, code: error.code, error: { code: error.code, message: error.message }, retry: retry ?? null }, ERROR_MS);
    if (held) this.hold(id);
  }

  info(text: string): void {
    this.push({ kind: 'info', text, code: null, error: null, retry: null }, INFO_MS);
  }

  dismiss(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.lifetimes.delete(id);
    this.items = this.items.filter((t) => t.id !== id);
  }

  /** Keeps a toast while the pointer or focus is on it, so there is time to read it and press its action. */
  hold(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  /** Lets a held toast go again, after its full time. */
  release(id: number): void {
    const ms = this.lifetimes.get(id);
    if (ms === undefined || this.timers.has(id)) return;
    this.timers.set(
      id,
      setTimeout(() => this.dismiss(id), ms),
    );
  }

  private push(toast: Omit<Toast, 'id'>, ms: number): number {
    const id = this.nextId++;
    this.items = [...this.items.slice(-4), { id, ...toast }];
    this.lifetimes.set(id, ms);
    this.release(id);
    return id;
  }
}
