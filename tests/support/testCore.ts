import { fileURLToPath } from 'node:url';
import { createCore, type Core, type CoreConfig } from '../../src-main/core/createCore';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { tempDir } from './tempDir';

/** The catalog shipped in the repository. */
export const CATALOG_PATH = fileURLToPath(new URL('../../models/catalog.json', import.meta.url));
/** The parser worker's TypeScript source: the parser starts it through tsx. */
export const PARSE_WORKER_PATH = fileURLToPath(new URL('../../src-main/core/library/parse/parseWorker.ts', import.meta.url));

/** A real core over a fresh data directory, CPU only (CI has no GPU). */
export function createTestCore(overrides: Partial<CoreConfig> = {}): { core: Core; dataDir: string; cleanup: () => Promise<void> } {
  const dir = tempDir();
  const core = createCore(
    { dataDir: dir.path, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH,
      ...overrides,
      // Watching is tested on purpose; other tests do not need watchers running.
      library: { watch: false, ...overrides.library },
    },
    { logger: createConsoleLogger(process.env.HEARTH_TEST_LOG === '1' ? 'debug' : 'error') },
  );
  return {
    core,
    dataDir: dir.path,
    cleanup: async () => {
      await core.dispose();
      dir.cleanup();
    },
  };
}
