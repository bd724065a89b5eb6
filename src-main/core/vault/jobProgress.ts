import type { JobContext } from '../jobs/jobManager';

/** What the vault's long operations report to, whether a job or a direct caller drives them. */
export interface Progress {
  signal?: AbortSignal;
  onProgress?: (progress: number | null, detail?: string, bytes?: { done: number; total: number }) => void;
}

/** Adapts a job's context to the service's progress callbacks (byte counts, speed and ETA). */
export function jobProgress(ctx: JobContext<unknown>, prefix?: string): Progress {
  let started = 0;
  return {
    signal: ctx.signal,
    onProgress: (progress, detail, bytes) => {
      if (bytes && started === 0) started = Date.now();
      const seconds = (Date.now() - started) / 1000;
      const perSecond = bytes && seconds > 0.2 ? bytes.done / seconds : null;
      ctx.onProgress(
        progress,
        detail ?? prefix,
        bytes
          ? { done: bytes.done, total: bytes.total, perSecond, etaSeconds: perSecond ? (bytes.total - bytes.done) / perSecond : null }
          : null,
      );
    },
  };
}
