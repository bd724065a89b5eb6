import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseSvelte } from 'svelte/compiler';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot as root, sourceFiles as listSources } from '../support/sourceFiles';

/**
 * One vocabulary: every closed list (job kinds, statuses, formats, error codes...) is
 * declared once, in src-preload/contract, and everything else imports it. This file finds
 * the lists by loading the contract (every exported array of strings is one, every
 * exported number a limit), then reads every source file's syntax tree, scripts and
 * templates of Svelte components included, for places that spell a list out again:
 *
 * - a union type or an array literal holding every member of a list: a copy, which misses
 *   the next member added (import the list or its type instead);
 * - a union type or array literal holding two or more members of a list, or an object literal
 *   keyed by (or mapping to) mostly members of a list, that the compiler does not check
 *   against a declared type:
 *   a selection is fine when it is typed (`const LIVE: readonly JobStatus[] = [...]`,
 *   `new Set<ErrorCode>([...])`, `... satisfies Record<VaultTargetKind, string>`, an argument
 *   checked against its parameter's type,
 *   `Extract<CallName, 'jobs.pause' | 'jobs.resume'>`), so that a renamed member fails to
 *   compile instead of silently never matching;
 * - a named constant (UPPER_CASE) whose value is one member of a list, or one of the
 *   contract's limits: a second name for what the contract already names.
 *
 * Naming one member where it is used (`job.status === 'paused'`) is fine: the compiler
 * checks it against the DTO's type.
 */

const CONTRACT = 'src-preload/contract/';
const UPPER_CASE = /^[A-Z][A-Z0-9_]*$/;

const SOURCE = /\.(ts|mts|cts|svelte)$/;
const sourceFiles = (dir: string): string[] => listSources(dir, SOURCE);

// ---- The contract's lists ----

interface ClosedList {
  name: string;
  members: ReadonlySet<string>;
}

async function contractVocabulary(): Promise<{ lists: ClosedList[]; limits: Map<number, string> }> {
  const lists = new Map<unknown, ClosedList>();
  const limits = new Map<number, string>();
  const modules = readdirSync(join(root, CONTRACT)).filter((name) => name.endsWith('.ts'));
  for (const module of modules) {
    const exports = (await import(join(root, CONTRACT, module))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value === 'number' && Number.isFinite(value)) limits.set(value, name);
      if (!Array.isArray(value) || value.length < 2 || !value.every((v) => typeof v === 'string')) continue;
      // One list may be exported under two names (CALL_NAMES and callNames): keep the UPPER_CASE one.
      const known = lists.get(value);
      if (!known || (!UPPER_CASE.test(known.name) && UPPER_CASE.test(name))) lists.set(value, { name, members: new Set(value as string[]) });
    }
  }
  return { lists: [...lists.values()], limits };
}

// ---- What the sources spell out ----

type Form = 'union type' | 'array literal' | 'object keys' | 'object values' | 'enum' | 'constant';

/** A group of literals written together: the members of a union, the elements of an array... */
interface Group {
  line: number;
  form: Form;
  values: string[];
  /** The compiler checks the values against a declared type (annotation, satisfies, type arguments, Extract/Exclude). */
  typed: boolean;
}

function stringValue(node: ts.Node): string | null {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : null;
}

function propertyKey(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  return null;
}

/** Past parentheses and `as const`, to what receives an expression. */
function receiver(node: ts.Node): { parent: ts.Node; child: ts.Node } {
  let child = node;
  let parent = node.parent;
  while (
    ts.isParenthesizedExpression(parent) ||
    (ts.isAsExpression(parent) && ts.isTypeReferenceNode(parent.type) && parent.type.typeName.getText() === 'const')
  ) {
    child = parent;
    parent = parent.parent;
  }
  return { parent, child };
}

function isTypedExpression(node: ts.Expression): boolean {
  const { parent, child } = receiver(node);
  if (ts.isSatisfiesExpression(parent)) return true;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isParameter(parent)) && parent.initializer === child) {
    return parent.type !== undefined;
  }
  // A call's argument is checked against the parameter's type. A constructor's is not when the
  // constructor infers its type from it (new Set(['A', 'B'])): there only type arguments count.
  if (ts.isCallExpression(parent) && parent.arguments.includes(child as ts.Expression)) return true;
  if (ts.isNewExpression(parent) && parent.arguments?.includes(child as ts.Expression)) {
    return parent.typeArguments !== undefined && parent.typeArguments.length > 0;
  }
  // Returned from a function that declares what it returns.
  if (ts.isReturnStatement(parent) || (ts.isArrowFunction(parent) && parent.body === child)) {
    const fn = ts.isArrowFunction(parent) ? parent : ts.findAncestor(parent, ts.isFunctionLike);
    return fn?.type !== undefined;
  }
  // A member of a typed array or object literal is as typed as its container.
  if (ts.isArrayLiteralExpression(parent)) return isTypedExpression(parent);
  if (ts.isPropertyAssignment(parent) && ts.isObjectLiteralExpression(parent.parent)) return isTypedExpression(parent.parent);
  return false;
}

function isTypedUnion(node: ts.UnionTypeNode): boolean {
  let child: ts.Node = node;
  while (ts.isParenthesizedTypeNode(child.parent)) child = child.parent;
  const parent = child.parent;
  return (
    ts.isTypeReferenceNode(parent) &&
    /^(Extract|Exclude)$/.test(parent.typeName.getText()) &&
    parent.typeArguments?.[1] === child
  );
}

function constantValue(initializer: ts.Expression | undefined): string | number | null {
  let node = initializer;
  while (node && (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node))) node = node.expression;
  if (!node) return null;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  return stringValue(node);
}

/** Every group of literals in one parsed piece of code; `lineOf` maps a position to a line of the file. */
function groupsIn(source: ts.SourceFile, lineOf: (pos: number) => number): Group[] {
  const groups: Group[] = [];
  const add = (node: ts.Node, form: Form, values: (string | null)[], typed: boolean) => {
    const strings = values.filter((v): v is string => v !== null);
    if (strings.length > 0) groups.push({ line: lineOf(node.getStart(source)), form, values: strings, typed });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isUnionTypeNode(node)) {
      const values = node.types.map((t) => (ts.isLiteralTypeNode(t) ? stringValue(t.literal) : null));
      add(node, 'union type', values, isTypedUnion(node));
    } else if (ts.isArrayLiteralExpression(node)) {
      // Entries ([['folder', 'Folder'], ...]) list their keys as surely as a plain array does.
      const values = node.elements.map((e) => stringValue(e) ?? (ts.isArrayLiteralExpression(e) && e.elements[0] ? stringValue(e.elements[0]) : null));
      add(node, 'array literal', values, isTypedExpression(node));
    } else if (ts.isObjectLiteralExpression(node)) {
      const typed = isTypedExpression(node);
      const properties = node.properties.filter(ts.isPropertyAssignment);
      add(node, 'object keys', properties.map((p) => propertyKey(p.name)), typed);
      add(node, 'object values', properties.map((p) => stringValue(p.initializer)), typed);
    } else if (ts.isEnumDeclaration(node)) {
      add(node, 'enum', node.members.map((m) => (m.initializer ? stringValue(m.initializer) : null)), false);
    } else if (
      (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && (ts.getCombinedNodeFlags(node) & ts.NodeFlags.Const) !== 0) ||
      (ts.isPropertyDeclaration(node) && ts.isIdentifier(node.name) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword))
    ) {
      const value = UPPER_CASE.test(node.name.getText(source)) ? constantValue(node.initializer) : null;
      if (value !== null) add(node, 'constant', [String(value)], node.type !== undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return groups;
}

function lineCounter(text: string, offset = 0): (pos: number) => number {
  return (pos) => text.slice(0, offset + pos).split('\n').length;
}

const parseTs = (name: string, text: string) => ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

interface SvelteNode {
  type?: unknown;
  start?: unknown;
  end?: unknown;
}

/** The component's scripts, and every expression in its template, as TypeScript. */
function svelteGroups(file: string, text: string): Group[] {
  const ast = parseSvelte(text, { modern: true });
  const groups: Group[] = [];
  for (const script of [ast.module, ast.instance]) {
    if (!script) continue;
    const start = (script.content as unknown as { start: number }).start;
    const end = (script.content as unknown as { end: number }).end;
    groups.push(...groupsIn(parseTs(file, text.slice(start, end)), lineCounter(text, start)));
  }
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    const node = value as SvelteNode;
    if (typeof node.type === 'string' && /Expression$/.test(node.type) && typeof node.start === 'number' && typeof node.end === 'number') {
      // Wrapped so that `(` is at offset 0 of the line: map positions back by start - 1.
      const expression = parseTs(file, `(${text.slice(node.start, node.end)});`);
      groups.push(...groupsIn(expression, lineCounter(text, node.start - 1)));
      return;
    }
    for (const [key, child] of Object.entries(node)) if (key !== 'loc' && key !== 'name_loc' && key !== 'metadata') walk(child);
  };
  walk(ast.fragment);
  return groups;
}

function groupsOf(file: string, text: string): Group[] {
  return file.endsWith('.svelte') ? svelteGroups(file, text) : groupsIn(parseTs(file, text), lineCounter(text));
}

// ---- The rules ----

interface Finding {
  where: string;
  /** The list or limit re-declared. */
  of: string;
  problem: string;
}

function findings(file: string, groups: Group[], lists: ClosedList[], limits: Map<number, string>): Finding[] {
  const out: Finding[] = [];
  for (const group of groups) {
    const where = `${file}:${group.line}`;
    if (group.form === 'constant') {
      const [value] = group.values as [string];
      const limit = /^[\d.]+$/.test(value) ? limits.get(Number(value)) : undefined;
      if (limit) out.push({ where, of: limit, problem: `a constant equal to ${limit}: import it from the contract` });
      for (const list of group.typed ? [] : lists.filter((l) => l.members.has(value))) {
        out.push({ where, of: list.name, problem: `an untyped constant for '${value}' of ${list.name}: use the contract's name, or its type` });
      }
      continue;
    }
    for (const list of lists) {
      const members = [...new Set(group.values.filter((v) => list.members.has(v)))];
      if (members.length < 2) continue;
      // An object is keyed by a list when most of its keys are members; a few keys that happen to
      // match (CLI options --folder and --kubo, an icon named "file") are field names, not a list.
      if (group.form.startsWith('object') && members.length * 2 <= group.values.length) continue;
      const shown = members.map((m) => `'${m}'`).join(', ');
      const complete = members.length === list.members.size && (group.form === 'union type' || group.form === 'array literal');
      if (complete) out.push({ where, of: list.name, problem: `${group.form} copying ${list.name} (${shown}): import the list or its type` });
      else if (!group.typed) out.push({ where, of: list.name, problem: `untyped ${group.form} with ${shown} of ${list.name}: type it with the contract's type` });
    }
  }
  return out;
}

const { lists, limits } = await contractVocabulary();
const readSource = (file: string) => readFileSync(join(root, file), 'utf8');
const check = (file: string, text: string) => findings(file, groupsOf(file, text), lists, limits);

describe('architecture: one vocabulary', () => {
  const files = ['src-main', 'src-preload', 'src-renderer/src', 'bench'].flatMap(sourceFiles);

  it('finds the contract lists and the sources', () => {
    const names = lists.map((l) => l.name);
    for (const name of ['ERROR_CODES', 'JOB_KINDS', 'JOB_STATUSES', 'DOCUMENT_FORMATS', 'MODEL_PURPOSES', 'VAULT_TARGET_KINDS', 'DOCUMENT_REASON_CODES']) {
      expect(names).toContain(name);
    }
    expect(limits.get(100_000)).toBe('MAX_MESSAGE_CHARS');
    expect(files).toContain('src-renderer/src/App.svelte');
    expect(files).toContain('src-main/core/createCore.ts');
  });

  it('no source outside the contract re-declares a closed list, one of its members or a limit', () => {
    const found = files.filter((file) => !file.startsWith(CONTRACT)).flatMap((file) => check(file, readSource(file)));
    expect(found.map((f) => `${f.where}: ${f.problem}`)).toEqual([]);
  });

  it('the contract declares each list once (its schemas and types derive from it)', () => {
    const contract = files.filter((file) => file.startsWith(CONTRACT));
    const declarations = new Map(lists.map((l) => [l.name, [] as string[]]));
    for (const file of contract) {
      for (const group of groupsOf(file, readSource(file))) {
        // A typed object keyed by every member (`satisfies Record<CallName, ...>`) maps the list; it does not declare it.
        if (group.form === 'constant' || (group.form.startsWith('object') && group.typed)) continue;
        for (const list of lists) {
          if ([...list.members].every((m) => group.values.includes(m))) declarations.get(list.name)!.push(`${file}:${group.line}`);
        }
      }
    }
    const repeated = [...declarations].filter(([, where]) => where.length !== 1);
    expect(repeated).toEqual([]);
  });
});

describe('architecture: the vocabulary check itself', () => {
  /** The lists and limits a piece of code is found to re-declare. */
  const flagged = (code: string, file = 'a.ts') => [...new Set(check(file, code).map((f) => f.of))].sort();

  it('catches the copies the renderer used to keep', () => {
    expect(flagged("export const DOWNLOAD_KIND = 'model.download';")).toEqual(['JOB_KINDS']);
    expect(flagged("export const INDEX_JOB_KIND = 'library.index' as const;")).toEqual(['JOB_KINDS']);
    expect(flagged("const JOB_ROLES = { 'vault.snapshot': 'snapshot', 'vault.publish': 'publish', 'vault.restore': 'restore' } as const;")).toContain('JOB_KINDS');
    expect(flagged('const DEFAULT_MAX_MESSAGE_CHARS = 100_000;')).toEqual(['MAX_MESSAGE_CHARS']);
  });

  it('catches copies of a whole list, typed or not, in types, arrays, enums and entries', () => {
    expect(flagged("type P = 'chat' | 'embedding' | 'rerank';")).toContain('MODEL_PURPOSES');
    expect(flagged("interface S { kind: 'folder' | 'file' }")).toEqual(['SOURCE_KINDS']);
    expect(flagged("const modes: readonly SearchMode[] = ['hybrid', 'bm25', 'vector'];")).toEqual(['SEARCH_MODES']);
    expect(flagged("const f = z.enum(['markdown', 'text', 'pdf', 'docx', 'html', 'epub', 'csv', 'code', 'image']);")).toEqual(['DOCUMENT_FORMATS']);
    expect(flagged("enum T { A = 'tiny', B = 'small', C = 'medium' }")).toEqual(['MODEL_TIERS']);
    expect(flagged("const KINDS: Array<[K, string]> = [['folder', 'Folder'], ['kubo', 'IPFS'], ['w3up', 'w3']];")).toEqual(['VAULT_TARGET_KINDS']);
  });

  it('catches untyped selections and accepts typed ones', () => {
    expect(flagged("const FINAL = new Set(['WRONG_PASSPHRASE', 'INTEGRITY_ERROR']);")).toEqual(['ERROR_CODES']);
    expect(flagged("if (['queued', 'running'].includes(job.status)) go();")).toEqual(['JOB_STATUSES']);
    expect(flagged("function f(s: 'skipped' | 'failed') {}")).toEqual(['DOCUMENT_STATUSES']);
    expect(flagged("const LABELS = { gpu: 'GPU', partial: 'Partly' };")).toEqual(['FIT_VERDICTS']);
    expect(flagged("const FINAL = new Set<ErrorCode>(['WRONG_PASSPHRASE', 'INTEGRITY_ERROR']);")).toEqual([]);
    expect(flagged("const LIVE: readonly JobStatus[] = ['queued', 'running'];")).toEqual([]);
    expect(flagged("jobs.find(kind, ['running', 'queued'] satisfies JobStatus[]);")).toEqual([]);
    expect(flagged("jobs.find(kind, ['running', 'queued']);")).toEqual([]);
    expect(flagged("httpError(response, describe, { refused: 'MODEL_GATED', failed: 'DOWNLOAD_FAILED' });")).toEqual([]);
    expect(flagged("function f(s: Extract<DocumentStatus, 'skipped' | 'failed'>) {}")).toEqual([]);
    expect(flagged("const LABELS = { gpu: 'GPU', partial: 'Partly' } as const satisfies Partial<Record<FitVerdict, string>>;")).toEqual([]);
    expect(flagged("const LABELS: Record<VaultTargetKind, string> = { folder: 'Folder', kubo: 'IPFS node', w3up: 'web3.storage' };")).toEqual([]);
    expect(flagged("function empty(): DocumentCounts { return { pending: 0, indexed: 0, skipped: 0, failed: 0 }; }")).toEqual([]);
    expect(flagged("const GATEWAY: RestoreOrigin = 'gateway';")).toEqual([]);
  });

  it('accepts single members where they are used, and unrelated lists', () => {
    expect(flagged("if (job.kind === 'model.download' && job.status === 'paused') resume(job);")).toEqual([]);
    expect(flagged("type Mode = 'prose' | 'code' | 'list' | 'rows';")).toEqual([]);
    expect(flagged('const limit = 100_000; const MAX_ROWS = 5000;')).toEqual([]);
  });

  it('reads Svelte scripts and templates, with the right lines', () => {
    const component = [
      '<script lang="ts">',
      "  const KINDS = ['folder', 'kubo', 'w3up'];",
      '</script>',
      '',
      "{#each ['gpu', 'partial'] as verdict}<span>{verdict}</span>{/each}",
    ].join('\n');
    expect(check('C.svelte', component).map((f) => `${f.where} ${f.of}`)).toEqual(['C.svelte:2 VAULT_TARGET_KINDS', 'C.svelte:5 FIT_VERDICTS']);
  });
});
