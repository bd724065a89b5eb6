import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

/**
 * Writes `<file>.br` and `<file>.gz` beside each text asset of the renderer build, so
 * `hearth serve` sends them compressed without compressing on every request (see staticFiles.ts).
 */
function precompress(): Plugin {
  const brotli = promisify(brotliCompress);
  const gz = promisify(gzip);
  return {
    name: 'hearth-precompress',
    apply: 'build',
    async writeBundle(output, bundle) {
      const dir = output.dir!;
      const files = Object.keys(bundle).filter((name) => /\.(js|mjs|css|html|svg|json)$/.test(name));
      await Promise.all(
        files.map(async (name) => {
          const data = await readFile(join(dir, name));
          if (data.length < 1024) return; // smaller than the headers it would save
          const options = { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } };
          await writeFile(join(dir, `${name}.br`), await brotli(data, options));
          await writeFile(join(dir, `${name}.gz`), await gz(data, { level: 9 }));
        }),
      );
    },
  };
}

/** npm packages bundled into the main build (see main.build below); every other dependency stays external. */
const BUNDLED_DEPS = ['ethers', '@noble/hashes', '@noble/ciphers', 'multiformats', '@ipld/car', '@ipld/dag-cbor', 'cborg'];

/** The chunk a bundled package goes to: ethers → vendor-ethers, @noble/hashes → vendor-noble-hashes. */
function vendorChunk(name: string): string {
  return `vendor-${name.replace(/\W+/g, '-').replace(/^-/, '')}`;
}

/** Matches the files of an npm package, and of the packages nested in its own node_modules. */
function inPackage(name: string): RegExp {
  return new RegExp(`node_modules[\\\\/]${name.replace('/', '[\\\\/]')}[\\\\/]`);
}

/**
 * One build for every front end:
 * - main: the Electron composition root (index), the plain-Node CLI/server (cli) and the
 *   document parser's child process (parseWorker) and the vault's crypto worker thread
 *   (vaultCryptoWorker), ESM;
 *   npm dependencies stay external (native modules load from node_modules).
 * - preload: one self-contained CommonJS file, as a sandboxed preload requires.
 * - renderer: the Svelte app, served by Electron from disk or by `hearth serve` over HTTP;
 *   minified, with brotli and gzip copies of each asset for the server.
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // Bundled rather than loaded from node_modules: pure JavaScript made of hundreds of small
      // ES modules, whose one-by-one loading cost every vault command ~0.2 s of CPU (BENCHMARKS.md).
      externalizeDeps: { exclude: BUNDLED_DEPS },
      rolldownOptions: {
        output: {
          // Each in a chunk of its own, named after it: only the commands that use it load it
          // (tests/integration/cliLazyLoad looks for the chunk's name).
          codeSplitting: { groups: BUNDLED_DEPS.map((name) => ({ name: vendorChunk(name), test: inPackage(name) })) },
          // Without a hash, so a test can tell which packages a command loaded (chunks/vendor-ethers.js).
          chunkFileNames: (chunk) => (chunk.name.startsWith('vendor-') ? 'chunks/[name].js' : 'chunks/[name]-[hash].js'),
        },
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/cli/main.ts'),
          // The document parser runs in a child process (forked by DocumentParser), so it is its own entry file.
          parseWorker: resolve(__dirname, 'src-main/core/library/parse/parseWorker.ts'),
          // The vault's crypto worker thread (started by core/vault/cryptoWorker.ts, found beside the bundle).
          vaultCryptoWorker: resolve(__dirname, 'src-main/core/vault/cryptoThread.ts'),
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
    plugins: [svelte(), precompress()],
    build: {
      minify: true,
      outDir: resolve(__dirname, 'out/renderer'),
      rolldownOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
