import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const core = join(root, 'src-main', 'core');

/**
 * Which folder of src-main/core imports which: the matrix is the architecture as it is, exact.
 * A folder may always import itself and the contract (#contract/*). A new dependency between
 * folders fails the tests until it is added here, and it can be added only if the graph stays
 * acyclic; a dependency that goes away must be removed here too, so the matrix stays true.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  common: [],
  ports: ['common'],
  storage: ['common'],
  jobs: ['common', 'storage'],
  search: ['common'],
  models: ['common', 'jobs', 'storage'],
  inference: ['common', 'models', 'receipts', 'storage'],
  receipts: ['common'],
  library: ['common', 'jobs', 'models', 'search', 'storage'],
  vault: ['common', 'jobs', 'ports', 'search', 'storage'],
  network: ['common', 'storage'],
  verify: ['common', 'inference', 'receipts'],
  apiTokens: ['common', 'storage'],
  rpc: ['common', 'createCore'],
  openDataDir: ['common', 'ports', 'storage'],
  searchCore: ['common', 'inference', 'library', 'models', 'openDataDir', 'search', 'storage'],
  createCore: ['apiTokens', 'common', 'inference', 'jobs', 'library', 'models', 'network', 'openDataDir', 'ports', 'search', 'storage', 'vault', 'verify'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The core folder a file belongs to: its first path segment, or `createCore` for the root file. */
function folderOf(file: string): string {
  const rel = relative(core, file).split(sep);
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, '') : rel[0]!;
}

/** Every relative import (static, re-export, dynamic, type-only) of a file, as core folders. */
function importedFolders(file: string, source: string): string[] {
  const specs = [...source.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.flatMap((spec) => {
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(core + sep)) return [];
    return [folderOf(`${target}.ts`)];
  });
}

/** folder → the folders it imports, built from the source tree. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(core)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const to of importedFolders(file, readFileSync(file, 'utf8'))) if (to !== from) edges.add(to);
  }
  return graph;
}

/** The folders on some cycle, found by a depth-first search (empty when the graph is acyclic). */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('architecture: folder dependencies in src-main/core', () => {
  const graph = folderGraph();

  it('every folder of the core is in the matrix', () => {
    expect([...graph.keys()].filter((folder) => !Object.hasOwn(ALLOWED, folder))).toEqual([]);
  });

  it('each folder imports only what the matrix allows', () => {
    const extra = [...graph].flatMap(([from, tos]) => [...tos].filter((to) => !(ALLOWED[from] ?? []).includes(to)).map((to) => `${from} -> ${to}`));
    expect(extra).toEqual([]);
  });

  it('every dependency in the matrix exists (remove the ones that went away)', () => {
    const unused = Object.entries(ALLOWED).flatMap(([from, tos]) => tos.filter((to) => !graph.get(from)?.has(to)).map((to) => `${from} -> ${to}`));
    expect(unused).toEqual([]);
  });

  it('no import cycle between folders', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the matrix itself has no cycle', () => {
    const declared = new Map(Object.entries(ALLOWED).map(([from, tos]) => [from, new Set(tos)]));
    expect(cycles(declared)).toEqual([]);
  });
});

describe('architecture: the dependency checks themselves', () => {
  it('finds a cycle of two and of three folders, and none in a chain', () => {
    const of = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    expect(cycles(of({ a: ['b'], b: ['a'] }))).toEqual([['a', 'b', 'a']]);
    expect(cycles(of({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual([['a', 'b', 'c', 'a']]);
    expect(cycles(of({ a: ['b'], b: ['c'], c: [] }))).toEqual([]);
  });

  it('reads static, type-only, re-export and dynamic imports as edges', () => {
    const file = join(core, 'library', 'x.ts');
    const source = [
      "import { A } from '../search/a';",
      "import type { B } from '../models/b';",
      "export { C } from '../jobs/c';",
      "const d = await import('../vault/d');",
      "import { E } from './e';",
      "import { F } from '#contract/dto';",
    ].join('\n');
    expect(importedFolders(file, source)).toEqual(['search', 'models', 'jobs', 'vault', 'library']);
  });
});
