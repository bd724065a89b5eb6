import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/server';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const root = join(__dirname, '..', '..');

/**
 * Runs the built CLI with a module hook that records every specifier the process resolves
 * (tests/support/importTrace.mjs), and returns those specifiers.
 */
function resolvedModules(args: string[], trace: string): string[] {
  return tracedSpecifiers(args, trace).map((specifier) => BUNDLED.find((name) => specifier.endsWith(`/${vendorChunk(name)}`)) ?? specifier);
}

/** The packages the build bundles into chunks of their own (electron.vite.config.ts), and each one's chunk file. */
const BUNDLED = ['ethers', '@noble/hashes', '@noble/ciphers', 'multiformats', '@ipld/car', '@ipld/dag-cbor', 'cborg'];
const vendorChunk = (name: string) => `vendor-${name.replace(/\W+/g, '-').replace(/^-/, '')}.js`;

/** Every specifier the built CLI resolves running `hearth ...args`, as written in the importing module. */
function tracedSpecifiers(args: string[], trace: string): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_IMPORT_TRACE: trace, HEARTH_LOG: 'warn' };
  delete env.HEARTH_DATA_DIR;
  delete env.HEARTH_VAULT_PASSPHRASE;
  const run = spawnSync(process.execPath, ['--import', join(root, 'tests', 'support', 'importTrace.mjs'), join(root, 'bin', 'hearth.mjs'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

/**
 * ethers is some 200 small ES modules (about 0.2 s of CPU to load one by one, more than the
 * code's own start-up); the build bundles it, the @noble hashes and ciphers, multiformats and
 * the @ipld CAR and DAG-CBOR codecs into chunks of their own (chunks/vendor-NAME.js), which a
 * vault command loads instead of the packages.
 */
describe('the built CLI loads ethers and @noble from its bundled chunks', { timeout: 60_000 }, () => {
  const dir = tempDir('hearth-cli-bundled-');
  beforeAll(() => assertBuilt());
  afterAll(() => dir.cleanup());

  it('hearth vault status resolves the chunks, never the packages in node_modules', () => {
    const vault = tracedSpecifiers(['vault', 'status', '--data-dir', join(dir.path, 'data')], join(dir.path, 'vault.trace'));
    for (const name of ['ethers', '@noble/hashes', 'multiformats', '@ipld/car']) expect(vault.some((s) => s.endsWith(`/${vendorChunk(name)}`)), name).toBe(true);
    const fromNodeModules = vault.filter((s) => BUNDLED.some((name) => s === name || s.startsWith(`${name}/`)));
    expect(fromNodeModules).toEqual([]);
  });
});

/** node-llama-cpp (about 0.5 s of CPU and 40 MB) is loaded by the commands that read a model, and only by them. */
describe('the built CLI loads node-llama-cpp only when a command needs it', { timeout: 60_000 }, () => {
  const dir = tempDir('hearth-cli-lazy-');
  beforeAll(() => assertBuilt());
  afterAll(() => dir.cleanup());

  it('hearth vault status and hearth --help do not load it', () => {
    const vault = resolvedModules(['vault', 'status', '--data-dir', join(dir.path, 'data')], join(dir.path, 'vault.trace'));
    // The hook sees the packages the command does load, so the absence below means something.
    expect(vault).toContain('better-sqlite3');
    expect(vault).not.toContain('node-llama-cpp');
    // Nor the document index (LanceDB, Arrow), the model downloader (ipull), the folder watcher (chokidar) or the server: a vault command needs none.
    for (const name of ['@lancedb/lancedb', 'apache-arrow', 'ipull', 'chokidar']) expect(vault, name).not.toContain(name);
    const help = resolvedModules(['--help'], join(dir.path, 'help.trace'));
    expect(help.length).toBeGreaterThan(0);
    expect(help).not.toContain('node-llama-cpp');
  });

  it('hearth models fit, which reads a GGUF header, loads it', async () => {
    const model = await testModelPath('stories260K');
    const fit = resolvedModules(['models', 'fit', model, '--data-dir', join(dir.path, 'data')], join(dir.path, 'fit.trace'));
    expect(fit).toContain('node-llama-cpp');
  });
});

/** Packages that only the server, MCP, the vault, downloads or the folder watcher need. */
// multiformats and @ipld/car are bundled (chunks/vendor-NAME.js, named by the package alone here).
const NOT_FOR_SEARCH = ['ethers', 'ipull', 'ws', 'chokidar', '@modelcontextprotocol/sdk/server/mcp.js', '@ipld/car', 'multiformats'];

/**
 * `hearth search` loads its own command and the lean search core (commandIndex.ts,
 * core/searchCore.ts): SQLite, LanceDB and the contract, plus node-llama-cpp only when the
 * query needs a vector. What any other command needs stays unloaded (bench/cliSearch.ts
 * measures what that saves).
 */
describe('hearth search loads only what a search needs', { timeout: 120_000 }, () => {
  const dir = tempDir('hearth-cli-lazy-search-');
  const data = join(dir.path, 'data');
  const docs = join(dir.path, 'docs');
  const hearth = (args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin', 'hearth.mjs'), ...args, '--data-dir', data, '--gpu', 'off', '--threads', '1'], { cwd: root, encoding: 'utf8' });

  beforeAll(() => {
    assertBuilt();
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, 'bees.md'), '# Bees\n\nVarroa mites weaken honey bee colonies in late summer.\n');
    writeFileSync(join(docs, 'tyres.md'), '# Tyres\n\nA thorn in the tyre casing needs a patch from the inside.\n');
    const index = hearth(['index', docs]);
    expect(index.status, index.stderr).toBe(0);
  });
  afterAll(() => dir.cleanup());

  it('a full-text search loads SQLite and LanceDB, never node-llama-cpp or another command’s packages', () => {
    const args = ['search', 'varroa mites', '--data-dir', data, '--gpu', 'off'];
    const bm25 = resolvedModules([...args, '--mode', 'bm25'], join(dir.path, 'bm25.trace'));
    expect(bm25).toEqual(expect.arrayContaining(['better-sqlite3', '@lancedb/lancedb']));
    for (const name of ['node-llama-cpp', ...NOT_FOR_SEARCH]) expect(bm25, name).not.toContain(name);
    // No embedding model: the default hybrid search runs on full text, and loads no model runtime.
    const hybrid = resolvedModules(args, join(dir.path, 'hybrid.trace'));
    expect(hybrid).not.toContain('node-llama-cpp');
  });

  it('a hybrid search over vectors loads node-llama-cpp for the query, and still nothing else', async () => {
    const model = await testModelPath('stories260K');
    const add = hearth(['models', 'add', model, '--json']);
    expect(add.status, add.stderr).toBe(0);
    const id = (JSON.parse(add.stdout) as { id: string }).id;
    const embed = hearth(['models', 'default', id, '--for', 'embedding']);
    expect(embed.status, embed.stderr).toBe(0);
    const hybrid = resolvedModules(['search', 'varroa mites', '--json', '--data-dir', data, '--gpu', 'off', '--threads', '1'], join(dir.path, 'vectors.trace'));
    expect(hybrid).toContain('node-llama-cpp');
    // node-llama-cpp itself imports ipull (its model downloader), so only ipull may come along.
    for (const name of NOT_FOR_SEARCH.filter((n) => n !== 'ipull')) expect(hybrid, name).not.toContain(name);
  });
});
