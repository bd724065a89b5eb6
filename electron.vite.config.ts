import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

/**
 * One build for every front end:
 * - main: the Electron composition root (index), the plain-Node CLI/server (cli) and the
 *   document parser's child process (parseWorker), ESM;
 *   npm dependencies stay external (native modules load from node_modules).
 * - preload: one self-contained CommonJS file, as a sandboxed preload requires.
 * - renderer: the Svelte app, served by Electron from disk or by `hearth serve` over HTTP.
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/cli/main.ts'),
          // The document parser runs in a child process (forked by DocumentParser), so it is its own entry file.
          parseWorker: resolve(__dirname, 'src-main/core/library/parse/parseWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    base: './',
    plugins: [svelte()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rolldownOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
