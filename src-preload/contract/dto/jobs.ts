/** Background jobs (downloads, indexing, snapshots...) as the UI and the CLI follow them. */

import type { ErrorData } from '../errors';
import type { JobKind, JobStatus } from '../vocabulary';

export interface JobBytes {
  done: number;
  total: number | null;
  perSecond: number | null;
  etaSeconds: number | null;
}

export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  status: JobStatus;
  /** 0..1, or null when the amount of work is unknown. */
  progress: number | null;
  detail: string | null;
  /** For jobs that move bytes (downloads): how many, how fast, how long to go. */
  bytes: JobBytes | null;
  error: ErrorData | null;
  createdAt: number;
  updatedAt: number;
}
