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

  /** Shows a failed call's error (with a Retry button where `retry` is given) and logs its code. */
  error(error: ErrorData, retry?: () => unknown): void {
    const text = errorText(error);
    // A warning, not an error: the failure is handled, and the code stays in the log for support.
    console.warn(`Hearth: ${text}`);
    // The same failure repeated (a retry loop, a double click) shows once, freshly timed.
    const existing = this.items.find((t) => t.kind === 'error' && t.text === text);
    if (existing) this.dismiss(existing.id);
    this.push({ kind: 'error', text, code: error.code, error: { code: error.code, message: error.message }, retry: retry ?? null }, ERROR_MS);
  }

  info(text: string): void {
    this.push({ kind: 'info', text, code: null, error: null, retry: null }, INFO_MS);
  }

  dismiss(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.items = this.items.filter((t) => t.id !== id);
  }

  private push(toast: Omit<Toast, 'id'>, ms: number): void {
    const id = this.nextId++;
    this.items = [...this.items.slice(-4), { id, ...toast }];
    this.timers.set(
      id,
      setTimeout(() => this.dismiss(id), ms),
    );
  }
}
