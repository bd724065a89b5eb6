import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot as root, sourceFiles as listSources } from '../support/sourceFiles';


const SOURCE = /\.(ts|mts|cts)$/;
const sourceFiles = (dir: string): string[] => listSources(dir, SOURCE);

/** Heavy modules that only some commands need, and the one file that loads each (at first use). */
const LAZY: Readonly<Record<string, string>> = {
  'node-llama-cpp': 'src-main/core/models/nodeLlamaCpp.ts',
  // The folder watcher: only a core that watches folders (the app, the server) needs it.
  chokidar: 'src-main/core/library/folderWatcher.ts',
};

/** Whether an import or export declaration brings in values (not only types). */
function importsValues(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return false;
    const clause = node.exportClause;
    return !clause || !ts.isNamedExports(clause) || clause.elements.some((e) => !e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return true; // a side-effect import loads the module
  if (clause.isTypeOnly) return false;
  if (clause.name) return true;
  const bindings = clause.namedBindings;
  if (!bindings) return false;
  return ts.isNamespaceImport(bindings) || bindings.elements.some((e) => !e.isTypeOnly);
}

/** `file: how` for each place in `file` that loads `moduleName`. */
function loadsOf(file: string, moduleName: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (node.moduleSpecifier.text === moduleName && importsValues(node)) found.push(`${file}: a static import`);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg) && arg.text === moduleName) found.push(`${file}: import()`);
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg) && arg.text === moduleName) found.push(`${file}: require()`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * node-llama-cpp costs about half a second of CPU and 40 MB to load, and most commands (vault,
 * search, settings) never run a model: only its types may be imported at a module's top, and
 * the module itself is loaded in one place, at first use (see tests/integration/cliLazyLoad).
 */
describe('heavy modules load lazily', () => {
  const files = ['src-main', 'src-preload'].flatMap((dir) => sourceFiles(dir));

  it.each(Object.entries(LAZY))('%s is loaded only by %s, with import()', (moduleName, loader) => {
    const loads = files.flatMap((file) => loadsOf(file, moduleName));
    expect(loads).toEqual([`${loader}: import()`]);
  });
});
