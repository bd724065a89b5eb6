import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The core must run without Electron: any import of it in a test fails loudly.
    alias: { electron: fileURLToPath(new URL('./tests/support/electronForbidden.ts', import.meta.url)) },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    // LanceDB's Rust side logs deprecation warnings on every query at the default level.
    env: { LANCE_LOG: 'error' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // node-llama-cpp and SQLite are native; forks isolate them per file.
    pool: 'forks',
    fileParallelism: false,
  },
});
