import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot as root, sourceFiles as listSources } from '../support/sourceFiles';


const SOURCE = /\.(ts|mts|cts)$/;
const sourceFiles = (dir: string): string[] => listSources(dir, SOURCE);

/** The one file that calls the global fetch: everything else goes through it (egressFetch, withPurpose). */
const EGRESS = 'src-main/core/common/egress.ts';

/** Modules whose client calls open a connection of their own, and those calls. */
const CLIENT_CALLS: Readonly<Record<string, readonly string[]>> = {
  http: ['request', 'get'],
  https: ['request', 'get'],
  net: ['connect', 'createConnection'],
  tls: ['connect'],
  dgram: ['createSocket'],
  http2: ['connect'],
};

/** Whether `name` is declared by a function's parameters or a block's statements around `node`. */
function declaredLocally(node: ts.Node, name: string): boolean {
  const declares = (binding: ts.BindingName): boolean =>
    ts.isIdentifier(binding) ? binding.text === name : binding.elements.some((element) => !ts.isOmittedExpression(element) && declares(element.name));
  for (let scope: ts.Node | undefined = node.parent; scope; scope = scope.parent) {
    if (ts.isFunctionLike(scope) && scope.parameters.some((p) => declares(p.name))) return true;
    if (ts.isBlock(scope) || ts.isSourceFile(scope) || ts.isModuleBlock(scope)) {
      for (const statement of scope.statements) {
        if (ts.isVariableStatement(statement) && statement.declarationList.declarations.some((d) => declares(d.name))) return true;
        if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name?.text === name) return true;
        if (ts.isImportDeclaration(statement) && statement.importClause) {
          const clause = statement.importClause;
          if (clause.name?.text === name) return true;
          const bindings = clause.namedBindings;
          if (bindings && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.name.text === name)) return true;
        }
      }
    }
  }
  return false;
}

/** Every place in one file that could reach the network around the egress module, as "line: what". */
function bypasses(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => found.push(`${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`);
  // Which local names stand for the modules above: `import http from 'node:http'`, `import * as net from 'net'`.
  const moduleNames = new Map<string, string>();
  const importedCalls = new Map<string, string>();
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier) || statement.importClause?.isTypeOnly) continue;
    const module = statement.moduleSpecifier.text.replace(/^node:/, '');
    const calls = CLIENT_CALLS[module];
    if (!calls && module !== 'ws' && module !== 'undici') continue;
    const clause = statement.importClause;
    if (module === 'undici') at(statement, "imports undici (Node's fetch is the one HTTP client)");
    if (clause?.name) moduleNames.set(clause.name.text, module);
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) moduleNames.set(bindings.name.text, module);
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) {
        const imported = (element.propertyName ?? element.name).text;
        if (element.isTypeOnly) continue;
        if (calls?.includes(imported)) importedCalls.set(element.name.text, `${module}.${imported}`);
        if (module === 'ws' && imported === 'WebSocket') importedCalls.set(element.name.text, 'a WebSocket client');
      }
    }
  }
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee)) {
        if (callee.text === 'fetch' && ts.isCallExpression(node) && !declaredLocally(node, 'fetch')) at(node, 'calls the global fetch');
        const imported = importedCalls.get(callee.text);
        if (imported) at(node, `calls ${imported}`);
        if (ts.isNewExpression(node) && (callee.text === 'WebSocket' || callee.text === 'EventSource') && !importedCalls.has(callee.text)) at(node, `opens a ${callee.text}`);
        const module = moduleNames.get(callee.text);
        if (module === 'ws' && ts.isNewExpression(node)) at(node, 'opens a WebSocket client');
      }
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
        const owner = callee.expression.text;
        const member = callee.name.text;
        if (owner === 'globalThis' && member === 'fetch') at(node, 'calls globalThis.fetch');
        const module = moduleNames.get(owner);
        if (module && CLIENT_CALLS[module]?.includes(member)) at(node, `calls ${module}.${member}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('architecture: every outbound request goes through the egress module', () => {
  const files = ['src-main', 'src-preload'].flatMap(sourceFiles).filter((file) => file !== EGRESS);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no file calls fetch, http(s).request, net or tls connect, or opens a WebSocket client around common/egress.ts', () => {
    const offenders = files.flatMap((file) => bypasses(file, readFileSync(join(root, file), 'utf8')).map((where) => `${file}:${where}`));
    expect(offenders).toEqual([]);
  });
});

describe('architecture: the egress check itself', () => {
  it('finds global fetch calls, and not a local function named fetch', () => {
    expect(bypasses('a.ts', 'export async function f() { return fetch("https://x"); }')).toEqual(['1: calls the global fetch']);
    expect(bypasses('a.ts', 'export const f = () => globalThis.fetch("https://x");')).toEqual(['1: calls globalThis.fetch']);
    expect(bypasses('a.ts', 'export function f(fetch: (u: string) => void) { fetch("x"); }')).toEqual([]);
    expect(bypasses('a.ts', 'export function f() { const fetch = (u: string) => u; return fetch("x"); }')).toEqual([]);
  });

  it('finds client calls of http, https, net, tls and dgram however they are imported, and WebSocket clients', () => {
    expect(bypasses('a.ts', "import https from 'node:https';\nhttps.get('https://x');")).toEqual(['2: calls https.get']);
    expect(bypasses('a.ts', "import * as net from 'net';\nnet.connect(80, 'x');")).toEqual(['2: calls net.connect']);
    expect(bypasses('a.ts', "import { request as r } from 'node:http';\nr('http://x');")).toEqual(['2: calls http.request']);
    expect(bypasses('a.ts', "import { connect } from 'node:tls';\nconnect(443, 'x');")).toEqual(['2: calls tls.connect']);
    expect(bypasses('a.ts', "import dgram from 'node:dgram';\ndgram.createSocket('udp4');")).toEqual(['2: calls dgram.createSocket']);
    expect(bypasses('a.ts', "import { WebSocket } from 'ws';\nnew WebSocket('ws://x');")).toEqual(['2: calls a WebSocket client']);
    expect(bypasses('a.ts', "new WebSocket('ws://x');")).toEqual(['1: opens a WebSocket']);
    expect(bypasses('a.ts', "import { Agent } from 'undici';")).toEqual(["1: imports undici (Node's fetch is the one HTTP client)"]);
  });

  it('lets servers and types through', () => {
    expect(bypasses('a.ts', "import { createServer, type IncomingMessage } from 'node:http';\ncreateServer();")).toEqual([]);
    expect(bypasses('a.ts', "import type { Socket } from 'node:net';\nimport { WebSocketServer } from 'ws';\nnew WebSocketServer({ noServer: true });")).toEqual([]);
  });
});
