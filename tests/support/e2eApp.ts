import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterEach } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core, type CoreConfig } from '../../src-main/core/createCore';
import { openBrowser } from './browser';
import { startServe, type ServeRun } from './server';
import { tempDir, type TempDir } from './tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from './testCore';
import { testModelCacheDir } from './testModels';

/** Where e2e tests put their screenshots (made by startE2eApp). */
export const E2E_OUT_DIR = join(__dirname, '..', '..', 'test-results', 'e2e');

/**
 * Runs `seed` on a real core over `dataDir` (as the server will open it, CPU only) and disposes of
 * it, so what it stores (models, settings, a wallet, chats) is there before `hearth serve` starts.
 */
export async function seedDataDir<T>(dataDir: string, seed: (core: Core) => Promise<T> | T, config: Partial<CoreConfig> = {}): Promise<T> {
  const core = createCore(
    { dataDir, host: 'server', version: 'e2e', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, ...config },
    { logger: createConsoleLogger('error') },
  );
  try {
    return await seed(core);
  } finally {
    await core.dispose();
  }
}

export interface E2eAppOptions {
  /** Prefix of the fresh data directory's name. */
  prefix: string;
  viewport: { width: number; height: number };
  /** Collects the page's errors and console errors (the test's own array). */
  errors: string[];
  /** Runs on a core over the data directory before the server starts (see seedDataDir). */
  seed?: (core: Core) => Promise<unknown> | unknown;
  /** The seeding core's configuration beyond the e2e defaults (a fast vault KDF, say). */
  seedConfig?: Partial<CoreConfig>;
  /** Gives the server the test models' folder (`--models-dir`), so it knows them. */
  testModels?: boolean;
  /** More `hearth serve` arguments, after `--data-dir` and `--threads 1`. */
  serveArgs?: string[];
  /** Lets the test inject a checker script (axe-core) the page's CSP would refuse. */
  bypassCSP?: boolean;
  /** Opens the server's one-time URL in the page. */
  open?: boolean;
  /** With open: waits for the element with this test id. */
  waitFor?: string;
}

export interface E2eApp {
  server: ServeRun;
  browser: Browser;
  page: Page;
  data: TempDir;
  /** Closes the browser, stops the server and removes the data directory. */
  close(): Promise<void>;
}

/**
 * What most e2e tests start with: a fresh data directory (seeded by a core first where the test
 * needs models, settings or data), `hearth serve` on it as a real child process on a free port,
 * and headless Chromium with a page that records errors. If any step fails, what was started is
 * stopped again. Return `app.close` from the test's beforeAll.
 */
export async function startE2eApp(options: E2eAppOptions): Promise<E2eApp> {
  mkdirSync(E2E_OUT_DIR, { recursive: true });
  const data = tempDir(options.prefix);
  let server: ServeRun | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    try {
      await browser?.close();
      await server?.stop();
    } finally {
      data.cleanup();
    }
  };
  try {
    if (options.seed) await seedDataDir(data.path, options.seed, options.seedConfig);
    const models = options.testModels ? ['--models-dir', testModelCacheDir()] : [];
    server = await startServe(['--data-dir', data.path, ...models, '--threads', '1', ...(options.serveArgs ?? [])]);
    const opened = await openBrowser(options.viewport, options.errors, { bypassCSP: options.bypassCSP ?? false });
    browser = opened.browser;
    const page = opened.page;
    if (options.open) await page.goto(server.url);
    if (options.open && options.waitFor) await page.getByTestId(options.waitFor).waitFor();
    return { server, browser, page, data, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Saves a screenshot of the page under E2E_OUT_DIR for each test of the suite that fails. */
export function screenshotOnFailure(page: () => Page | undefined, name: string): void {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await page()?.screenshot({ path: join(E2E_OUT_DIR, `${name}-failed-${ctx.task.name.slice(0, 24).replace(/\W+/g, '-')}.png`) });
  });
}
