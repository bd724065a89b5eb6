import type { CallInput } from '#contract/api';
import type { JobInfo, JobStatus, VaultCreated, VaultSnapshot, VaultStatus, VaultTarget } from '#contract/dto';
import type { ErrorData } from '#contract/errors';
import { JOB_KIND, type JobKind } from '#contract/vocabulary';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** The job kinds of the vault's long work, and the card each one shows on. */
const JOB_ROLES = {
  [JOB_KIND.vaultSnapshot]: 'snapshot',
  [JOB_KIND.vaultPublish]: 'publish',
  [JOB_KIND.vaultRestore]: 'restore',
} as const satisfies Partial<Record<JobKind, string>>;
export type VaultJobRole = (typeof JOB_ROLES)[keyof typeof JOB_ROLES];

/** Statuses in which a job is still under way (its card shows a bar, its button waits). */
const LIVE: readonly JobStatus[] = ['queued', 'running', 'paused'];

export function isLive(job: JobInfo | null): boolean {
  return job !== null && LIVE.includes(job.status);
}

/** Forms that show their own errors inline, where the user is looking. */
export type VaultForm = 'create' | 'import' | 'unlock' | 'reveal' | 'snapshot' | 'publish' | 'target' | 'schedule' | 'restore';

export type AddTargetInput = CallInput<'vault.addTarget'>;
export type RestoreInput = CallInput<'vault.restore'>;
export type ScheduleInput = CallInput<'vault.setSchedule'>;

function roleOf(kind: JobKind): VaultJobRole | null {
  return kind in JOB_ROLES ? JOB_ROLES[kind as keyof typeof JOB_ROLES] : null;
}

/**
 * The Backup screen: the wallet identity, snapshots and where they were published, publish
 * targets, the schedule and restores. Fetched when the screen opens; kept fresh by the
 * vault's jobs on jobs.update (the latest job of each kind is the one its card shows).
 */
export class VaultStore {
  status = $state<VaultStatus | null>(null);
  snapshots = $state<VaultSnapshot[]>([]);
  targets = $state<VaultTarget[]>([]);
  /** The wallet just created: its phrase is shown once, until the user says it is written down. */
  created = $state<VaultCreated | null>(null);
  /** The phrase vault.revealPhrase returned, until hidden or locked. */
  revealed = $state<string | null>(null);
  jobs = $state<Record<VaultJobRole, JobInfo | null>>({ snapshot: null, publish: null, restore: null });
  errors = $state<Partial<Record<VaultForm, ErrorData>>>({});
  /** Keys of calls in flight: a form's name, or a target id. */
  pending = $state<Record<string, boolean>>({});
  /** Where each restore job (by id) writes, to say so when it ends. */
  restoreDirs = $state<Record<string, string>>({});
  loaded = $state(false);

  readonly state: VaultStatus['state'] | null = $derived(this.status?.state ?? null);
  readonly unlocked = $derived(this.status?.state === 'unlocked');

  private visible = false;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  /** The Backup screen opened (or closed); opening refetches what it shows. */
  setVisible(visible: boolean): void {
    const opened = visible && !this.visible;
    this.visible = visible;
    if (opened) void this.refresh();
  }

  /** After a reconnect: what the screen shows may have changed meanwhile. */
  async refreshIfVisible(): Promise<void> {
    if (this.visible) await this.refresh();
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshStatus(), this.refreshSnapshots(), this.refreshTargets(), this.refreshJobs()]);
    this.loaded = true;
  }

  async refreshStatus(): Promise<void> {
    const result = await this.bridge.call('vault.status', {});
    if (result.ok) this.status = result.value;
    else this.toasts.error(result.error);
  }

  async refreshSnapshots(): Promise<void> {
    const result = await this.bridge.call('vault.snapshots', {});
    if (!result.ok) {
      // Before a wallet exists there is nothing to list; that is not news.
      if (result.error.code !== 'VAULT_NOT_SET_UP') this.toasts.error(result.error);
      return;
    }
    this.snapshots = [...result.value].sort((a, b) => b.createdAt - a.createdAt);
  }

  async refreshTargets(): Promise<void> {
    const result = await this.bridge.call('vault.targets', {});
    if (result.ok) this.targets = result.value;
    else this.toasts.error(result.error);
  }

  /** Vault jobs that started before the screen opened (a scheduled snapshot, another window). */
  private async refreshJobs(): Promise<void> {
    const result = await this.bridge.call('jobs.list', {});
    if (!result.ok) return;
    for (const job of [...result.value].sort((a, b) => a.createdAt - b.createdAt)) {
      const role = roleOf(job.kind);
      if (role && (isLive(job) || this.jobs[role]?.id === job.id)) this.handleJob(job, false);
    }
  }

  /** jobs.update: the latest job of each vault kind; finished snapshots and publications refetch the lists. */
  handleJob(job: JobInfo, announce = true): void {
    const role = roleOf(job.kind);
    if (!role) return;
    const current = this.jobs[role];
    if (current && current.id === job.id && current.updatedAt > job.updatedAt) return;
    // An older job's late event never replaces the card of a newer one.
    if (current && current.id !== job.id && current.createdAt > job.createdAt) return;
    const changed = current?.id !== job.id || current.status !== job.status;
    this.jobs[role] = job;
    if (!changed || isLive(job) || !announce) return;
    if (job.status === 'completed' && role !== 'restore') void Promise.all([this.refreshSnapshots(), this.refreshStatus()]);
    // The card says it on the Backup screen; elsewhere (a scheduled snapshot) a toast does.
    if (job.status === 'failed' && job.error && !this.visible) this.toasts.error(job.error);
  }

  async create(passphrase: string, remember: boolean): Promise<boolean> {
    const created = await this.run('create', () => this.bridge.call('vault.create', { passphrase, remember }));
    if (!created) return false;
    this.created = created;
    await this.refresh();
    return true;
  }

  /** The user wrote the phrase down: it is not kept anywhere in the UI after this. */
  confirmWritten(): void {
    this.created = null;
  }

  async importPhrase(phrase: string, passphrase: string, remember: boolean): Promise<boolean> {
    const status = await this.run('import', () => this.bridge.call('vault.import', { phrase: phrase.trim(), passphrase, remember }));
    if (!status) return false;
    this.status = status;
    await this.refresh();
    return true;
  }

  async unlock(passphrase: string, remember: boolean): Promise<boolean> {
    const status = await this.run('unlock', () => this.bridge.call('vault.unlock', { passphrase, remember }));
    if (!status) return false;
    this.status = status;
    void this.refreshSnapshots();
    return true;
  }

  async lock(): Promise<void> {
    const status = await this.run('lock', () => this.bridge.call('vault.lock', {}), true);
    this.revealed = null;
    if (status) this.status = status;
  }

  async reveal(passphrase: string): Promise<boolean> {
    const result = await this.run('reveal', () => this.bridge.call('vault.revealPhrase', { passphrase }));
    if (!result) return false;
    this.revealed = result.phrase;
    return true;
  }

  hidePhrase(): void {
    this.revealed = null;
  }

  async snapshot(options: { includeModels: boolean; includeDocuments: boolean; targetId: string | null }): Promise<void> {
    const { targetId, ...content } = options;
    const job = await this.run('snapshot', () => this.bridge.call('vault.snapshot', { ...content, ...(targetId ? { targetId } : {}) }));
    if (job) this.handleJob(job);
  }

  async publish(cid: string, targetId: string): Promise<void> {
    const job = await this.run('publish', () => this.bridge.call('vault.publish', { cid, targetId }));
    if (job) this.handleJob(job);
  }

  async addTarget(input: AddTargetInput): Promise<VaultTarget | null> {
    const target = await this.run('target', () => this.bridge.call('vault.addTarget', input));
    if (!target) return null;
    this.targets = [...this.targets.filter((t) => t.id !== target.id), target];
    return target;
  }

  async removeTarget(targetId: string): Promise<void> {
    const removed = await this.run(targetId, () => this.bridge.call('vault.removeTarget', { targetId }), true);
    if (removed === undefined) return;
    this.targets = this.targets.filter((t) => t.id !== targetId);
    // The schedule may have pointed there.
    void this.refreshStatus();
  }

  /** Desktop only: the system's folder picker; null when cancelled. */
  async pickFolder(): Promise<string | null> {
    const picked = await this.bridge.call('sources.pick', { kind: 'folder' });
    if (picked.ok) return picked.value;
    this.toasts.error(picked.error);
    return null;
  }

  async setSchedule(input: ScheduleInput): Promise<boolean> {
    const schedule = await this.run('schedule', () => this.bridge.call('vault.setSchedule', input));
    if (!schedule) return false;
    await this.refreshStatus();
    this.toasts.info(schedule.intervalHours === null ? 'Automatic snapshots are off.' : 'Schedule saved.');
    return true;
  }

  async restore(input: RestoreInput): Promise<boolean> {
    const job = await this.run('restore', () => this.bridge.call('vault.restore', input));
    if (!job) return false;
    this.restoreDirs[job.id] = input.dataDir;
    this.handleJob(job);
    return true;
  }

  async cancelJob(role: VaultJobRole): Promise<void> {
    const job = this.jobs[role];
    if (!job) return;
    await this.run(job.id, () => this.bridge.call('jobs.cancel', { jobId: job.id }), true);
  }

  /**
   * Runs one call under a pending key. Its error is kept for the form to show inline, or
   * (toast: true, for list actions without a form) shown as a toast. undefined on failure.
   */
  private async run<T>(
    key: string,
    call: () => Promise<{ ok: true; value: T } | { ok: false; error: ErrorData }>,
    toast = false,
  ): Promise<T | undefined> {
    if (this.pending[key]) return undefined;
    this.pending[key] = true;
    if (!toast) delete this.errors[key as VaultForm];
    try {
      const result = await call();
      if (result.ok) return result.value;
      if (toast) this.toasts.error(result.error);
      else this.errors[key as VaultForm] = result.error;
      if (result.error.code === 'VAULT_LOCKED' || result.error.code === 'VAULT_NOT_SET_UP') void this.refreshStatus();
      return undefined;
    } finally {
      delete this.pending[key];
    }
  }

  clearError(form: VaultForm): void {
    delete this.errors[form];
  }
}
