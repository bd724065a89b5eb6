import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot as root, sourceFiles as listSources } from '../support/sourceFiles';


const SOURCE = /\.(ts|mts|cts|js|mjs|svelte)$/;
const sourceFiles = (dir: string): string[] => listSources(dir, SOURCE, { declarations: true });

const files = ['src-main', 'src-preload', 'src-renderer/src'].flatMap(sourceFiles);
const read = (file: string) => readFileSync(join(root, file), 'utf8');

// Catches static imports, re-exports, dynamic import() and require() of the module.
const importsOf = (source: string, module: string) =>
  new RegExp(
    String.raw`(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]${module.replace('/', '\\/')}(?:/[^'"]*)?['"]`,
  ).test(source);

/** The rules of ../shared/ARCHITECTURE.md, checked on every file. */
describe('architecture: layers', () => {
  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files).toContain('src-main/core/createCore.ts');
  });

  it("only the Electron shell and the preload entry import 'electron'", () => {
    const allowed = (file: string) =>
      file === 'src-main/index.ts' || file.startsWith('src-main/electron/') || file === 'src-preload/index.ts';
    const offenders = files.filter((file) => !allowed(file) && importsOf(read(file), 'electron'));
    expect(offenders).toEqual([]);
  });

  it('only the preload uses ipcRenderer', () => {
    const offenders = files.filter((file) => file !== 'src-preload/index.ts' && /\bipcRenderer\b/.test(read(file)));
    expect(offenders).toEqual([]);
  });

  it('only src-renderer/src/lib/api/ touches the bridge global', () => {
    const offenders = files
      .filter((file) => file.startsWith('src-renderer/') && !file.startsWith('src-renderer/src/lib/api/'))
      .filter((file) => /\bwindow\s*\.\s*hearth\b|\bglobalThis\s*\.\s*hearth\b|\[\s*['"]hearth['"]\s*\]/.test(read(file)));
    expect(offenders).toEqual([]);
  });

  it('the core never touches the DOM or imports UI code', () => {
    const core = files.filter((file) => file.startsWith('src-main/core/'));
    const domUse = core.filter((file) => /\b(document|window|localStorage|HTMLElement)\s*[.[]/.test(read(file)));
    const uiImports = core.filter((file) => /from\s*['"][./]*(?:\.\.\/)+src-renderer\//.test(read(file)) || importsOf(read(file), 'svelte'));
    expect({ domUse, uiImports }).toEqual({ domUse: [], uiImports: [] });
  });

  it('the renderer never imports main-process code or Node built-ins', () => {
    const renderer = files.filter((file) => file.startsWith('src-renderer/'));
    const offenders = renderer.filter((file) => {
      const source = read(file);
      return /from\s*['"][^'"]*src-main\//.test(source) || /from\s*['"]node:/.test(source);
    });
    expect(offenders).toEqual([]);
  });

  it('the contract is pure TypeScript: no Node, Electron or DOM dependencies', () => {
    const contract = files.filter((file) => file.startsWith('src-preload/contract/'));
    expect(contract.length).toBeGreaterThan(0);
    const offenders = contract.filter((file) => {
      const source = read(file);
      const imports = [...source.matchAll(/from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      // Relative imports stay inside the contract (dto.ts re-exports ./dto/*.ts, which import ../vocabulary).
      const outside = (spec: string) => !posix.normalize(posix.join(posix.dirname(file), spec)).startsWith('src-preload/contract/');
      return imports.some((spec) => (spec.startsWith('.') ? outside(spec) : spec !== 'zod'));
    });
    expect(offenders).toEqual([]);
  });

  it('the core reads no environment variables (configuration is passed in)', () => {
    // Handing the environment on to a child process unread ({ ...process.env, X: '1' }) is allowed.
    const offenders = files
      .filter((file) => file.startsWith('src-main/core/'))
      .filter((file) => /process\.env\b/.test(read(file).replaceAll(/\.\.\.process\.env\b/g, '')));
    expect(offenders).toEqual([]);
  });
});

describe('architecture: the checks themselves', () => {
  it('recognises every form of importing electron', () => {
    for (const form of [
      "import { app } from 'electron';",
      'import electron from "electron";',
      "const { ipcMain } = require('electron');",
      "await import('electron')",
      "export { shell } from 'electron/main';",
      "import 'electron';",
    ]) {
      expect(importsOf(form, 'electron'), form).toBe(true);
    }
    expect(importsOf("import x from 'electron-vite';", 'electron')).toBe(false);
  });

  it('the electron module is aliased to one that throws in tests', async () => {
    await expect(import('electron')).rejects.toThrow(/plain Node/);
  });
});

