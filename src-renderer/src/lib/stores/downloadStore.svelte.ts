import type { CallName } from '#contract/api';
import type { JobInfo, JobStatus } from '#contract/dto';
import { JOB_KIND } from '#contract/vocabulary';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

const ACTIVE: readonly JobStatus[] = ['queued', 'running'];

export function isActive(job: JobInfo): boolean {
  return ACTIVE.includes(job.status);
}

/** Statuses a download can be resumed from. */
export function canResume(job: JobInfo): boolean {
  return job.status === 'paused' || job.status === 'interrupted';
}

/** Model downloads as jobs: the list from jobs.list, kept fresh by jobs.update events. */
export class DownloadStore {
  jobs = $state<JobInfo[]>([]);
  /** Job ids with a pause/resume/cancel call in flight. */
  pending = $state<Record<string, boolean>>({});

  /** Newest first. */
  readonly downloads: JobInfo[] = $derived(
    this.jobs.filter((j) => j.kind === JOB_KIND.modelDownload).sort((a, b) => b.createdAt - a.createdAt),
  );
  readonly activeCount = $derived(this.downloads.filter(isActive).length);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    /** A download finished: its model is on this machine now. */
    private readonly onCompleted: (job: JobInfo) => void,
  ) {}

  async refresh(): Promise<void> {
    const result = await this.bridge.call('jobs.list', {});
    if (!result.ok) {
      this.toasts.error(result.error);
      return;
    }
    // An event newer than the list wins, so a fast download cannot step backwards.
    const seenJobs = this.jobs;
    this.jobs = result.value.map((job) => {
      const seen = seenJobs.find((j) => j.id === job.id);
      return seen && seen.updatedAt > job.updatedAt ? seen : job;
    });
  }

  handleUpdate(job: JobInfo): void {
    const index = this.jobs.findIndex((j) => j.id === job.id);
    const before = index >= 0 ? this.jobs[index] : undefined;
    if (before && before.updatedAt > job.updatedAt) return;
    if (index >= 0) this.jobs[index] = job;
    else this.jobs = [...this.jobs, job];
    if (job.kind !== JOB_KIND.modelDownload || before?.status === job.status) return;
    if (job.status === 'completed') this.onCompleted(job);
    // Said wherever the user is; the Downloads tab keeps the details.
    else if (job.status === 'failed' && job.error) this.toasts.error(job.error);
  }

  get(jobId: string): JobInfo | undefined {
    return this.jobs.find((j) => j.id === jobId);
  }

  pause(jobId: string): Promise<void> {
    return this.act(jobId, 'jobs.pause');
  }

  resume(jobId: string): Promise<void> {
    return this.act(jobId, 'jobs.resume');
  }

  cancel(jobId: string): Promise<void> {
    return this.act(jobId, 'jobs.cancel');
  }

  private async act(jobId: string, name: Extract<CallName, 'jobs.pause' | 'jobs.resume' | 'jobs.cancel'>): Promise<void> {
    if (this.pending[jobId]) return;
    this.pending[jobId] = true;
    try {
      const result = await this.bridge.call(name, { jobId });
      if (!result.ok) {
        this.toasts.error(result.error);
        await this.refresh();
      }
    } finally {
      delete this.pending[jobId];
    }
  }
}
