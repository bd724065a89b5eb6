import type { JobBytes, JobInfo } from '#contract/dto';
import { IntervalGate } from '../core/common/async';
import type { Core } from '../core/createCore';
import type { CliContext } from './cliContext';
import type { Interrupt } from './declare/commandSpec';
import { clip, formatBytes, terminalSafe } from './format';
import { printError } from './output';

/** Exit code of a command the user stopped with Ctrl+C (128 + SIGINT, as shells report it). */
export const INTERRUPTED = 130;

const REDRAW_MS = 200;

/** What the user is told when Ctrl+C stopped the work, by what it did to it. */
const STOPPED: Readonly<Record<Interrupt, string>> = {
  pause: 'Paused. Run the same command again to resume where it stopped.\n',
  cancel: 'Cancelled.\n',
};

export interface ProgressBar {
  update(progress: number | null, detail: string | null, bytes: Pick<JobBytes, 'done' | 'total'> & Partial<JobBytes> | null, force?: boolean): void;
  /** Ends the bar's line (if one was drawn). */
  end(): void;
}

/** The one-line progress bar on stderr, redrawn at most every 200 ms; quiet (--json) draws nothing. */
export function progressBar(ctx: CliContext, quiet: boolean): ProgressBar {
  const redraws = new IntervalGate(REDRAW_MS);
  let drawn = false;
  return {
    update(progress, detail, bytes, force = false) {
      if (quiet || !redraws.tryPass(force)) return;
      drawn = true;
      const pct = Math.floor((progress ?? 0) * 100);
      const bar = `[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '-')}] ${String(pct).padStart(3)}%`;
      // The detail names files ("Indexing <name>"): escaped, so a name cannot drive the terminal.
      const parts = [detail ? clip(terminalSafe(detail), 70) : ''];
      if (bytes && bytes.total) {
        const speed = bytes.perSecond ? ` ${formatBytes(bytes.perSecond)}/s` : '';
        const eta = bytes.etaSeconds !== null && bytes.etaSeconds !== undefined && !force ? ` ETA ${Math.ceil(bytes.etaSeconds)}s` : '';
        parts.push(`${formatBytes(bytes.done)} of ${formatBytes(bytes.total)}${speed}${eta}`);
      }
      ctx.stderr(`\r${bar} ${parts.filter(Boolean).join(' · ')}\x1b[K`);
    },
    end() {
      if (drawn) ctx.stderr('\n');
      drawn = false;
    },
  };
}

/**
 * Calls `stop` on the first Ctrl+C (SIGINT/SIGTERM) while `work` runs; the command declares
 * whether that pauses or cancels, and its help says which. Returns work's result.
 */
export async function whileInterruptible<T>(ctx: CliContext, stop: () => void, work: () => Promise<T>): Promise<T> {
  const unsubscribe = ctx.onSignal(() => stop());
  try {
    return await work();
  } finally {
    unsubscribe();
  }
}

/**
 * Waits for a job of the core with a progress bar on stderr (none with --json). Ctrl+C pauses
 * or cancels it, as the command declares. Returns the job's final state; jobExitCode says
 * what it means for the user.
 */
export async function waitForJob(core: Core, job: JobInfo, ctx: CliContext, options: { quiet: boolean; interrupt: Interrupt }): Promise<JobInfo> {
  const bar = progressBar(ctx, options.quiet);
  const off = core.events.on('jobs.update', (info) => {
    if (info.id !== job.id) return;
    // A step without a byte count (a snapshot's packing) keeps the previous step's bytes: show none then.
    const bytes = info.progress !== null && info.bytes && info.bytes.total !== null ? info.bytes : null;
    bar.update(info.progress, info.detail, bytes);
  });
  const stop = () => (options.interrupt === 'pause' ? core.jobs.pause(job.id) : core.jobs.cancel(job.id));
  try {
    const done = await whileInterruptible(ctx, stop, () => core.jobs.wait(job.id));
    if (done.status === 'completed') bar.update(1, done.detail, done.bytes && done.bytes.total !== null ? done.bytes : null, true);
    bar.end();
    return done;
  } finally {
    off();
  }
}

/**
 * The exit code of a job's final state, saying on stderr what happened unless it completed:
 * 130 when Ctrl+C paused or cancelled it, 1 with "error CODE: message" when it failed.
 */
export function jobExitCode(done: JobInfo, ctx: CliContext): number {
  if (done.status === 'completed') return 0;
  if (done.status === 'paused' || done.status === 'interrupted') return interrupted('pause', ctx);
  if (done.status === 'cancelled') return interrupted('cancel', ctx);
  printError(ctx, done.error?.code ?? 'INTERNAL', done.error?.message ?? `The job ended ${done.status} without saying why.`);
  return 1;
}

/** Says what Ctrl+C did and returns the exit code for it. */
export function interrupted(what: Interrupt, ctx: CliContext): number {
  ctx.stderr(STOPPED[what]);
  return INTERRUPTED;
}
