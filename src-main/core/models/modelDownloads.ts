import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobInfo, JobStatus, ModelInfo, ModelSource } from '#contract/dto';
import { formatBytes } from '#contract/format';
import { JOB_KIND } from '#contract/vocabulary';
import { withPurpose } from '../common/egress';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { JobContext, JobManager } from '../jobs/jobManager';
import { allocatedBytes, freeDiskBytes } from './diskSpace';
import { findDownloaded, placeDownload, verifyDownload } from './downloadedFile';
import type { ModelFileHashes } from './modelFileHashes';
import { describeError, transferError } from './downloadErrors';
import { ipullModule } from './ipullModule';
import { probeDownload, type RemoteFile } from './downloadProbe';
import { RateMeter } from './rateMeter';
import { normalizeResolved, resolveUrlSource, type ResolvedSource } from './resolveSource';

export const MODEL_DOWNLOAD_JOB = JOB_KIND.modelDownload;

export interface ModelDownloadsDeps {
  jobs: JobManager;
  /** Registers the finished file (ModelLibrary.add). */
  library: { add(path: string): Promise<ModelInfo> };
  /** dataDir/models: finished files land here. */
  modelsDir: string;
  /** dataDir/downloads: partial files live here (same file system as modelsDir, so the move is a rename). */
  tempDir: string;
  logger: Logger;
  /** Keeps a verified file's sha256, so answer receipts never read the model through again. */
  hashes?: Pick<ModelFileHashes, 'record'>;
  /** Resolves a source to a URL, headers (auth) and the expected sha256/size when known. Without it only URL sources work. */
  resolve?(source: ModelSource): Promise<ResolvedSource>;
  /** Connections per download; default 4, at least 2 (see `transfer`). */
  parallelConnections?: number;
  /** A download is fetched and checkpointed in pieces this big; a restart resumes at a piece boundary. */
  chunkSizeBytes?: number;
  /** When a connection keeps failing without progress: tries per connection, and the back-off between them. */
  retry?: { attempts: number; minDelayMs: number; maxDelayMs: number };
}

/** What a download job persists: the resolved target, never the headers. */
export interface DownloadParams {
  source: ModelSource;
  url: string;
  fileName: string;
  sha256: string | null;
  sizeBytes: number | null;
}

/** What the server said the first time, so a resume can tell whether the file changed since. */
interface DownloadCheckpoint {
  etag: string | null;
  sizeBytes: number | null;
}

/** The shapes a download's params and checkpoint are read back with (after a crash, or by a newer Hearth). */
const byteCount = z.number().int().nonnegative().nullable();
const downloadParamsSchema = z.object({
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('catalog'), id: z.string(), quantization: z.string().optional() }),
    z.object({ kind: z.literal('hub'), repo: z.string(), file: z.string(), revision: z.string().optional() }),
    z.object({ kind: z.literal('url'), url: z.string(), sha256: z.string().optional() }),
  ]),
  url: z.string().min(1),
  fileName: z.string().min(1),
  sha256: z.string().nullable(),
  sizeBytes: byteCount,
}) satisfies z.ZodType<DownloadParams>;
const downloadCheckpointSchema = z.object({ etag: z.string().nullable(), sizeBytes: byteCount }) satisfies z.ZodType<DownloadCheckpoint>;

const ACTIVE: readonly JobStatus[] = ['queued', 'running', 'paused'];
/** Jobs a pull of the same file picks up again instead of starting over. */
const RETRYABLE: readonly JobStatus[] = ['failed', 'interrupted'];
/** Jobs whose partial files are worth keeping. */
const KEEPS_FILES = new Set<JobStatus>([...ACTIVE, ...RETRYABLE]);
const DEFAULT_CHUNK = 5 * 1024 * 1024;
const DEFAULT_RETRY = { attempts: 8, minDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Downloads models as resumable jobs: parallel ranged connections (ipull), pause and resume,
 * resume after the process is killed, a free-space check first, then size, GGUF and sha256
 * checks, an atomic move into the models folder, and registration in the library. A failure
 * leaves no half-registered model; a pull of a file already on its way joins that job.
 */
export class ModelDownloads {
  private readonly parallel: number;
  private readonly chunkSize: number;
  private readonly retry: { attempts: number; minDelayMs: number; maxDelayMs: number };
  /** Headers from the pull that started a job, used by its first run; a resumed run resolves again. */
  private readonly pendingHeaders = new Map<string, Record<string, string>>();

  constructor(private readonly deps: ModelDownloadsDeps) {
    // ipull 3.9 with one connection restarts a resumed download from byte 0 but keeps only its
    // first piece, which corrupts the file; two or more connections resume correctly.
    this.parallel = Math.min(16, Math.max(2, Math.floor(deps.parallelConnections ?? 4)));
    // ipull mis-tracks pieces smaller than one network read (it hangs, or a retry corrupts the
    // file: seen with 16 KiB pieces), so pieces are never smaller than 256 KiB.
    this.chunkSize = Math.max(256 * 1024, Math.floor(deps.chunkSizeBytes ?? DEFAULT_CHUNK));
    this.retry = deps.retry ?? DEFAULT_RETRY;
    mkdirSync(deps.tempDir, { recursive: true, mode: 0o700 });
    mkdirSync(deps.modelsDir, { recursive: true, mode: 0o700 });
    deps.jobs.register<DownloadParams, DownloadCheckpoint>(MODEL_DOWNLOAD_JOB, {
      params: downloadParamsSchema,
      checkpoint: downloadCheckpointSchema,
      title: (params) => `Download ${params.fileName}`,
      resumable: true,
      run: (params, context) => this.run(params, context),
      discard: (_params, jobId) => this.removeTempFiles(jobId),
    });
    this.sweep();
  }

  /** Starts a download job, or returns the one already fetching the same file. */
  async pull(source: ModelSource): Promise<JobInfo> {
    const resolved = normalizeResolved(await this.resolveSource(source));
    const params: DownloadParams = {
      source,
      url: resolved.url,
      fileName: resolved.fileName,
      sha256: resolved.sha256,
      sizeBytes: resolved.sizeBytes,
    };
    // No await from here on: the check and the start cannot interleave with another pull.
    const same = (p: DownloadParams) => p.url === params.url && p.fileName === params.fileName;
    const active = this.deps.jobs.find<DownloadParams>(MODEL_DOWNLOAD_JOB, ACTIVE, same);
    if (active) return active;
    this.pendingHeaders.set(targetKey(params), resolved.headers);
    const earlier = this.deps.jobs.find<DownloadParams>(MODEL_DOWNLOAD_JOB, RETRYABLE, (p) => same(p) && p.sha256 === params.sha256);
    if (earlier) {
      // Picks up the partial file a failed or interrupted attempt kept.
      this.deps.jobs.resume(earlier.id);
      return this.deps.jobs.get(earlier.id);
    }
    return this.deps.jobs.start(MODEL_DOWNLOAD_JOB, params);
  }

  private async resolveSource(source: ModelSource): Promise<ResolvedSource> {
    if (this.deps.resolve) return this.deps.resolve(source);
    if (source.kind === 'url') return resolveUrlSource(source);
    throw new HearthError('UNSUPPORTED', `Cannot download ${source.kind} sources here: no resolver is configured`);
  }

  private async run(params: DownloadParams, context: JobContext<DownloadCheckpoint>): Promise<void> {
    const { signal, jobId } = context;
    await mkdir(this.deps.tempDir, { recursive: true, mode: 0o700 });
    await mkdir(this.deps.modelsDir, { recursive: true, mode: 0o700 });
    const temp = this.tempPaths(jobId);

    // Already in the models folder with the sha256 it should have: register it, no network.
    if (params.sha256) {
      context.onProgress(null, 'Looking for the file on this machine');
      const present = await findDownloaded(this.deps.modelsDir, params, signal);
      if (present) {
        this.removeTempFiles(jobId);
        this.pendingHeaders.delete(targetKey(params));
        context.onProgress(1, 'Already downloaded');
        await this.recordHash(present, params.sha256);
        await this.deps.library.add(present);
        return;
      }
    }

    let expected = params.sizeBytes ?? context.checkpoint?.sizeBytes ?? null;
    if (!(await this.finishedEarlier(temp, expected))) {
      // A size known in advance is checked before any request.
      if (params.sizeBytes !== null) await this.ensureSpace(params.sizeBytes, params.fileName, jobId);
      const headers = await this.headersFor(params);
      context.onProgress(null, 'Connecting');
      const remote = await probeDownload(params, headers, signal, (total) => this.ensureSpace(total, params.fileName, jobId));
      expected = params.sizeBytes ?? remote.size;
      const before = context.checkpoint;
      if (before && ((before.etag && remote.etag && before.etag !== remote.etag) || (before.sizeBytes !== null && before.sizeBytes !== remote.size))) {
        this.deps.logger.info(`${params.fileName} changed on the server since the download began; starting over`);
        this.removeTempFiles(jobId);
      }
      context.saveCheckpoint({ etag: remote.etag, sizeBytes: remote.size });
      // ipull fetches on its own: every ranged request it sends is recorded as the download.
      await withPurpose('model-download', () => this.transfer(params, remote, headers, temp, context));
    }

    context.onProgress(1, 'Checking the file');
    await verifyDownload(temp.done, params, expected, signal);
    context.onProgress(1, 'Adding to the library');
    const placed = await placeDownload(this.deps.modelsDir, temp.done, params.fileName, signal);
    try {
      if (params.sha256) await this.recordHash(placed.path, params.sha256);
      await this.deps.library.add(placed.path);
    } catch (error) {
      // Nothing half-registered: a file the library refuses does not stay in its folder.
      if (placed.created) await rm(placed.path, { force: true });
      throw error;
    }
  }

  /** Best effort: a hash not kept is computed again when a receipt needs it. */
  private async recordHash(path: string, sha256: string): Promise<void> {
    await this.deps.hashes?.record(path, sha256).catch((error: unknown) => this.deps.logger.warn(`could not keep the sha256 of ${path}`, error));
  }

  private async headersFor(params: DownloadParams): Promise<Record<string, string>> {
    const key = targetKey(params);
    const pending = this.pendingHeaders.get(key);
    this.pendingHeaders.delete(key);
    if (pending) return pending;
    // A resumed run asks again: tokens are never written to the job's params.
    return (await this.resolveSource(params.source)).headers;
  }

  /** Throws DISK_FULL when the download's remaining bytes, plus a margin, do not fit. */
  private async ensureSpace(totalBytes: number, fileName: string, jobId: string): Promise<void> {
    if (totalBytes <= 0) return;
    const free = await freeDiskBytes(this.deps.tempDir);
    if (free === null) return;
    const have = await allocatedBytes(this.tempPaths(jobId).partial);
    const needed = Math.max(0, totalBytes - have);
    // Room to spare, so finishing the download does not leave the disk with nothing free.
    const margin = Math.max(8 * 1024 * 1024, Math.ceil(totalBytes * 0.01));
    if (needed + margin > free) {
      throw new HearthError(
        'DISK_FULL',
        `Not enough disk space for ${fileName}: it needs ${formatBytes(needed)} (plus ${formatBytes(margin)} to spare) but only ${formatBytes(free)} is free where Hearth keeps downloads (${this.deps.tempDir}).`,
      );
    }
  }

  /**
   * Fetches the file with ipull: parallel ranged connections, pieces checkpointed in the
   * partial file itself so a paused, failed or killed download continues where it stopped.
   * ipull retries failing connections itself; this decides when to give up (and stops it
   * cleanly, since its own give-up can leave rejected promises unhandled).
   */
  private async transfer(
    params: DownloadParams,
    remote: RemoteFile,
    headers: Record<string, string>,
    temp: { done: string; partial: string },
    context: JobContext<DownloadCheckpoint>,
  ): Promise<void> {
    const { signal } = context;
    signal.throwIfAborted();
    const { downloadFile } = await ipullModule();
    const downloader = await downloadFile({
      url: params.url,
      savePath: temp.done,
      headers: { ...headers, 'accept-encoding': 'identity' },
      parallelStreams: this.parallel,
      chunkSize: this.chunkSize,
      // What the probe learnt; ipull would otherwise send a GET of its own and not read it.
      defaultFetchDownloadInfo: { length: remote.size ?? 0, acceptRange: remote.acceptRanges },
      retryOnServerError: true,
      // Far more tries than the give-up below allows (ipull builds its back-off table up front,
      // so not unbounded); the count restarts whenever a connection makes progress.
      retry: { retries: 1000, factor: 2, minTimeout: this.retry.minDelayMs, maxTimeout: this.retry.maxDelayMs },
    });

    const meter = new RateMeter();
    let transferred = 0;
    downloader.on('progress', (status) => {
      transferred = status.transferredBytes;
      const total = remote.size ?? null;
      const perSecond = meter.sample(transferred);
      const etaSeconds = total !== null && perSecond ? Math.max(0, Math.round((total - transferred) / perSecond)) : null;
      context.onProgress(
        total ? Math.min(1, transferred / total) : null,
        total ? `${formatBytes(transferred)} of ${formatBytes(total)}` : `${formatBytes(transferred)} downloaded`,
        { done: transferred, total, perSecond, etaSeconds },
      );
    });

    let failure: HearthError | null = null;
    let partialIsBad = false;
    let stopping: Promise<void> | null = null;
    let markStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));

    // Every write goes through here: ipull marks a piece done before its write lands and lets
    // a failed write reject unhandled, so a failure is caught here instead, the download
    // stopped, and the partial file (whose checkpoint now lies) deleted. Counting writes in
    // flight also lets a stop wait for them: closing under a pending write makes ipull reopen,
    // and so recreate, the file after it was closed (or deleted by a cancel).
    const writer = downloader.options.writeStream;
    const write = writer.write.bind(writer);
    let writing = 0;
    let finishing = false;
    const whenNoWrites: (() => void)[] = [];
    const writesSettled = () => (writing === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenNoWrites.push(resolve)));
    writer.options.retry = { retries: 2, minTimeout: 100, maxTimeout: 1_000 }; // a disk error does not heal in hours
    writer.write = async (cursor, buffer) => {
      if (partialIsBad || finishing) return;
      writing++;
      try {
        await write(cursor, buffer);
      } catch (error) {
        partialIsBad = true;
        failure ??= transferError(error, params, transferred, remote.size);
        void stop();
      } finally {
        if (--writing === 0) for (const resolve of whenNoWrites.splice(0)) resolve();
      }
    };
    // ipull keeps its progress record after the data, saved after each piece without waiting,
    // and cuts it off when the last piece is written. A save still in flight then lands after
    // the cut (or, after the close, in the file renamed into place), and the finished file has
    // the record's bytes in it: a checksum mismatch, more likely the busier the disk and CPU.
    // So the cut waits for the writes in flight, and no write starts once it has begun (every
    // piece's data is written by then: ipull waits for those before it finishes).
    const truncate = writer.ftruncate.bind(writer);
    writer.ftruncate = async (size) => {
      finishing = true;
      await writesSettled();
      await truncate(size);
    };
    // Closing keeps the partial file and its checkpoint; cancel deletes them through discard.
    const stop = () => {
      stopping ??= (async () => {
        downloader.pause(); // no new piece reaches the writer
        do await new Promise((resolve) => setTimeout(resolve, 5));
        while (writing > 0);
        await downloader.close();
      })()
        .catch((error: unknown) => this.deps.logger.warn(`closing the download of ${params.fileName}`, error))
        .then(() => markStopped());
      return stopping;
    };
    // ipull counts every failed connection; give up when they keep failing with no byte gained.
    let failuresWithoutProgress = 0;
    let bytesAtLastFailure = -1;
    downloader.options.fetchStream.on('errorCountIncreased', (_count, error) => {
      failuresWithoutProgress = transferred > bytesAtLastFailure ? 1 : failuresWithoutProgress + 1;
      bytesAtLastFailure = transferred;
      this.deps.logger.debug(`download of ${params.fileName}: connection failed (${describeError(error)}), retrying`);
      if (failuresWithoutProgress >= this.retry.attempts * this.parallel && !failure) {
        failure = transferError(error, params, transferred, remote.size);
        void stop();
      }
    });

    const onAbort = () => void stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const finished = downloader.download();
    // Settled below, or left behind once a stop wins the race.
    finished.catch(() => undefined);
    try {
      await Promise.race([finished, stopped]);
      if (stopping) await stopping;
    } catch (error) {
      await stop();
      failure ??= transferError(error, params, transferred, remote.size);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (partialIsBad) this.removeTempFiles(context.jobId);
    if (signal.aborted) throw signal.reason;
    if (failure) throw failure;
  }

  /** A download that finished in the temporary folder but was not moved (the process stopped between). */
  private async finishedEarlier(temp: { done: string; partial: string }, expected: number | null): Promise<boolean> {
    if (expected === null || existsSync(temp.partial)) return false;
    try {
      return (await stat(temp.done)).size === expected;
    } catch {
      return false;
    }
  }

  private tempPaths(jobId: string): { done: string; partial: string } {
    const done = join(this.deps.tempDir, `${jobId}.gguf`);
    return { done, partial: `${done}.ipull` };
  }

  private removeTempFiles(jobId: string): void {
    const { done, partial } = this.tempPaths(jobId);
    rmSync(partial, { force: true });
    rmSync(done, { force: true });
  }

  /** Deletes partial files no job will resume (cancelled, finished, or forgotten). */
  private sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.deps.tempDir);
    } catch {
      return;
    }
    for (const name of names) {
      const jobId = /^(job_[0-9a-f]+)\.gguf(?:\.ipull)?$/.exec(name)?.[1];
      if (!jobId) continue;
      let status: JobStatus | null = null;
      try {
        status = this.deps.jobs.get(jobId).status;
      } catch {
        // no such job
      }
      if (status === null || !KEEPS_FILES.has(status)) {
        this.deps.logger.debug(`removing leftover download ${name}`);
        rmSync(join(this.deps.tempDir, name), { force: true });
      }
    }
  }
}

const targetKey = (p: { url: string; fileName: string }) => `${p.url}\n${p.fileName}`;
