// Child process for the kill -9 test: builds a real core on a data directory, pulls one URL,
// prints the job id, and runs until it is killed.
//
//   downloadChild.ts DATA_DIR URL SHA256|- PARALLEL CHUNK_BYTES
import { join } from 'node:path';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { ModelDownloads } from '../../src-main/core/models/modelDownloads';
import { CATALOG_PATH, PARSE_WORKER_PATH } from './testCore';

const [dataDir, url, sha, parallel, chunk] = process.argv.slice(2);
const logger = createConsoleLogger('error');

const core = createCore({ dataDir: dataDir!, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH }, { logger });
const downloads = new ModelDownloads({
  jobs: core.jobs,
  library: core.models,
  modelsDir: join(dataDir!, 'models'),
  tempDir: join(dataDir!, 'downloads'),
  logger,
  parallelConnections: Number(parallel),
  chunkSizeBytes: Number(chunk),
  retry: { attempts: 2, minDelayMs: 20, maxDelayMs: 100 },
});
const job = await downloads.pull({ kind: 'url', url: url!, ...(sha && sha !== '-' ? { sha256: sha } : {}) });
process.stdout.write(`${job.id}\n`);
