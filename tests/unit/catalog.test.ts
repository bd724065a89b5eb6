import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import { ModelCatalog, parseCatalog } from '../../src-main/core/models/catalog';
import { parseQuantization } from '../../src-main/core/models/hubClient';
import { tempDir } from '../support/tempDir';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const catalogPath = join(root, 'models', 'catalog.json');
const schemaPath = join(root, 'models', 'catalog.schema.json');
const catalogJson = JSON.parse(readFileSync(catalogPath, 'utf8')) as { $schema: string; version: number; models: CatalogEntry[] };
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Schema;

/**
 * A validator for the subset of JSON Schema 2020-12 that catalog.schema.json uses. It refuses
 * keywords it does not know, so the schema cannot grow a rule this test silently ignores.
 */
type Schema = { [keyword: string]: unknown };
const KNOWN = new Set([
  '$schema', '$id', '$defs', '$ref', 'title', 'description', 'type', 'const', 'enum', 'properties', 'required',
  'additionalProperties', 'items', 'minItems', 'pattern', 'minLength', 'maxLength', 'minimum',
]);

function validate(value: unknown, node: Schema, rootSchema: Schema, path = '$'): string[] {
  for (const keyword of Object.keys(node)) if (!KNOWN.has(keyword)) throw new Error(`validator does not support "${keyword}" at ${path}`);
  if (typeof node.$ref === 'string') {
    const target = node.$ref.replace(/^#\//, '').split('/').reduce<unknown>((n, key) => (n as Schema)[key], rootSchema);
    if (!target) throw new Error(`unresolved $ref ${node.$ref}`);
    return validate(value, target as Schema, rootSchema, path);
  }
  const errors: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? (node.type as string[]) : [node.type as string];
    const actual = typeOf(value);
    if (!types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  }
  if ('const' in node && value !== node.const) errors.push(`${path}: expected ${JSON.stringify(node.const)}`);
  if (Array.isArray(node.enum) && !node.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in ${node.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (typeof node.pattern === 'string' && !new RegExp(node.pattern, 'u').test(value)) errors.push(`${path}: "${value}" does not match ${node.pattern}`);
    if (typeof node.minLength === 'number' && value.length < node.minLength) errors.push(`${path}: shorter than ${node.minLength}`);
    if (typeof node.maxLength === 'number' && value.length > node.maxLength) errors.push(`${path}: longer than ${node.maxLength}`);
  }
  if (typeof value === 'number' && typeof node.minimum === 'number' && value < node.minimum) errors.push(`${path}: below ${node.minimum}`);
  if (Array.isArray(value)) {
    if (typeof node.minItems === 'number' && value.length < node.minItems) errors.push(`${path}: fewer than ${node.minItems} items`);
    if (node.items) value.forEach((item, i) => errors.push(...validate(item, node.items as Schema, rootSchema, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (node.properties ?? {}) as Record<string, Schema>;
    for (const key of (node.required ?? []) as string[]) if (!(key in object)) errors.push(`${path}: missing ${key}`);
    for (const [key, child] of Object.entries(object)) {
      if (properties[key]) errors.push(...validate(child, properties[key], rootSchema, `${path}.${key}`));
      else if (node.additionalProperties === false) errors.push(`${path}: unexpected property ${key}`);
    }
  }
  return errors;
}

const schemaErrors = (value: unknown) => validate(value, schema, schema);
const mutated = (change: (c: typeof catalogJson) => void) => {
  const copy = structuredClone(catalogJson);
  change(copy);
  return copy;
};
const model = (c: typeof catalogJson, id: string) => c.models.find((m) => m.id === id)!;

describe('models/catalog.json', () => {
  it('names its JSON Schema (draft 2020-12) by "$schema", and that file exists', () => {
    expect(catalogJson.$schema).toBe('./catalog.schema.json');
    expect(existsSync(resolve(dirname(catalogPath), catalogJson.$schema))).toBe(true);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(String(schema.description)).toMatch(/approximate until the hub's file listing is fetched/);
  });

  it('is valid against catalog.schema.json', () => {
    expect(schemaErrors(catalogJson)).toEqual([]);
  });

  it('is valid against the zod schema the app loads it with', () => {
    expect(parseCatalog(readFileSync(catalogPath, 'utf8')).length).toBe(catalogJson.models.length);
  });

  it('the schema and the zod schema both reject broken entries', () => {
    const broken = [
      mutated((c) => delete (model(c, 'qwen3-4b') as Partial<CatalogEntry>).license),
      mutated((c) => ((model(c, 'qwen3-4b') as { purpose: string }).purpose = 'vision')),
      mutated((c) => ((model(c, 'qwen3-4b') as unknown as Record<string, unknown>).extra = 1)),
      mutated((c) => ((model(c, 'qwen3-4b').files[0] as { sha256: string | null }).sha256 = 'not-a-hash')),
      mutated((c) => (model(c, 'qwen3-4b').files[0]!.file = 'Qwen3-4B-Q4_K_M.bin')),
      mutated((c) => (model(c, 'qwen3-4b').files[0]!.sizeBytes = 0)),
      mutated((c) => (model(c, 'qwen3-4b').files = [])),
      mutated((c) => (c.version = 2)),
    ];
    for (const catalog of broken) {
      expect(schemaErrors(catalog).length).toBeGreaterThan(0);
      expect(() => parseCatalog(JSON.stringify(catalog))).toThrow(HearthError);
    }
  });

  it('has unique ids, and unique quantizations and files within each entry', () => {
    const ids = catalogJson.models.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of catalogJson.models) {
      expect(new Set(m.files.map((f) => f.quantization)).size, m.id).toBe(m.files.length);
      expect(new Set(m.files.map((f) => f.file)).size, m.id).toBe(m.files.length);
    }
  });

  it('recommends a quantization each entry has, and every file is a .gguf whose name states its quantization', async () => {
    for (const m of catalogJson.models) {
      expect(m.files.map((f) => f.quantization), m.id).toContain(m.recommendedQuantization);
      for (const f of m.files) {
        expect(f.file, m.id).toMatch(/\.gguf$/);
        // The same parser reads hub listings, so catalog and search agree on names.
        expect(await parseQuantization(f.file), f.file).toBe(f.quantization);
        expect(f.sha256 === null || /^[0-9a-f]{64}$/.test(f.sha256), f.file).toBe(true);
      }
    }
  });

  it('offers chat models in every tier, with Q4_K_M and 2 to 4 quantizations each', () => {
    const chat = catalogJson.models.filter((m) => m.purpose === 'chat');
    expect(new Set(chat.map((m) => m.tier))).toEqual(new Set(['tiny', 'small', 'medium']));
    for (const m of chat) {
      expect(m.files.map((f) => f.quantization), m.id).toContain('Q4_K_M');
      expect(m.files.length, m.id).toBeGreaterThanOrEqual(2);
      expect(m.files.length, m.id).toBeLessThanOrEqual(4);
      expect(m.recommendedQuantization).toBe('Q4_K_M');
    }
  });

  it('puts each model in the tier its parameter count says (tiny < 1B, small 1-4B, medium 7-9B)', () => {
    for (const m of catalogJson.models) {
      const billions = Number.parseFloat(m.parameters) / (m.parameters.endsWith('M') ? 1000 : 1);
      const tier = billions < 1 ? 'tiny' : billions <= 4.5 ? 'small' : billions >= 7 && billions <= 9 ? 'medium' : 'none';
      expect(m.tier, m.id).toBe(tier);
    }
  });

  it('lists the models the product promises, with embedding models and a reranker', () => {
    const ids = catalogJson.models.map((m) => m.id);
    for (const id of [
      'qwen2.5-0.5b-instruct', 'qwen2.5-1.5b-instruct', 'qwen2.5-3b-instruct', 'qwen2.5-7b-instruct',
      'qwen3-0.6b', 'qwen3-1.7b', 'qwen3-4b', 'qwen3-8b', 'llama-3.2-1b-instruct', 'llama-3.2-3b-instruct',
      'phi-3.5-mini-instruct', 'phi-4-mini-instruct', 'gemma-2-2b-it', 'gemma-3-4b-it', 'mistral-7b-instruct-v0.3',
      'bge-small-en-v1.5', 'nomic-embed-text-v1.5', 'embeddinggemma-300m', 'bge-reranker-v2-m3',
    ]) {
      expect(ids).toContain(id);
    }
    expect(catalogJson.models.filter((m) => m.purpose === 'embedding').length).toBeGreaterThanOrEqual(3);
    expect(catalogJson.models.filter((m) => m.purpose === 'rerank').length).toBeGreaterThanOrEqual(1);
  });

  it('gives sizes that grow with the quantization within each entry (a typo check on the approximations)', () => {
    const bits = (q: string) => Number(/(\d+)/.exec(q)?.[1] ?? 0) + (q.endsWith('_M') ? 0.5 : q.endsWith('_K') ? 0.6 : 0);
    for (const m of catalogJson.models) {
      const sorted = [...m.files].sort((a, b) => bits(a.quantization) - bits(b.quantization));
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.sizeBytes, `${m.id} ${sorted[i]!.quantization}`).toBeGreaterThan(sorted[i - 1]!.sizeBytes);
    }
  });
});

describe('ModelCatalog', () => {
  const dir = tempDir('hearth-catalog-');
  afterAll(() => dir.cleanup());
  const write = (name: string, content: unknown) => {
    const path = join(dir.path, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const errorOf = (fn: () => unknown): HearthError => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(HearthError);
      return error as HearthError;
    }
    throw new Error('expected an error');
  };

  it('lists, gets and picks files from the shipped catalog', () => {
    const catalog = new ModelCatalog(catalogPath);
    expect(catalog.list().map((e) => e.id)).toEqual(catalogJson.models.map((m) => m.id));
    expect(catalog.get('qwen3-4b').repo).toBe('unsloth/Qwen3-4B-GGUF');
    expect(catalog.file('qwen3-4b').quantization).toBe('Q4_K_M');
    expect(catalog.file('qwen3-4b', 'Q8_0').file).toBe('Qwen3-4B-Q8_0.gguf');
    expect(catalog.file('qwen3-4b', 'q8_0').quantization).toBe('Q8_0');
    expect(catalog.file('bge-small-en-v1.5').quantization).toBe('F16');
  });

  it('returns copies, so a caller cannot change the catalog for others', () => {
    const catalog = new ModelCatalog(catalogPath);
    catalog.list()[0]!.name = 'changed';
    catalog.get('qwen3-4b').files.length = 0;
    expect(catalog.list()[0]!.name).not.toBe('changed');
    expect(catalog.get('qwen3-4b').files.length).toBeGreaterThan(0);
  });

  it('an unknown id is MODEL_NOT_FOUND; an unknown quantization is BAD_INPUT listing the choices', () => {
    const catalog = new ModelCatalog(catalogPath);
    expect(errorOf(() => catalog.get('gpt-5')).code).toBe('MODEL_NOT_FOUND');
    expect(errorOf(() => catalog.file('gpt-5')).code).toBe('MODEL_NOT_FOUND');
    const bad = errorOf(() => catalog.file('qwen3-4b', 'Q3_K_S'));
    expect(bad.code).toBe('BAD_INPUT');
    expect(bad.message).toMatch(/Q3_K_S.*Q4_K_M, Q5_K_M, Q6_K, Q8_0/);
  });

  it('a corrupt catalog fails with CORRUPT_FILE naming the entry and the field, only when used', () => {
    const broken = mutated((c) => ((model(c, 'gemma-3-4b-it').files[1] as { sizeBytes: unknown }).sizeBytes = 'big'));
    const catalog = new ModelCatalog(write('broken.json', broken)); // constructing does not read yet
    const error = errorOf(() => catalog.list());
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain('"gemma-3-4b-it"');
    expect(error.message).toContain('files.1.sizeBytes');
  });

  it('names an entry without an id by its index, and catches duplicates and a recommendation without a file', () => {
    const noId = mutated((c) => delete (c.models[2] as Partial<CatalogEntry>).id);
    expect(errorOf(() => new ModelCatalog(write('no-id.json', noId)).list()).message).toContain('models[2]');
    const twice = mutated((c) => c.models.push(structuredClone(model(c, 'qwen3-8b'))));
    expect(errorOf(() => new ModelCatalog(write('twice.json', twice)).list()).message).toMatch(/"qwen3-8b".*twice/);
    const noFile = mutated((c) => (model(c, 'qwen3-8b').recommendedQuantization = 'Q2_K'));
    const message = errorOf(() => new ModelCatalog(write('no-file.json', noFile)).list()).message;
    expect(message).toMatch(/"qwen3-8b".*recommendedQuantization: Q2_K is not one of its files/);
  });

  it('invalid JSON and a missing file are CORRUPT_FILE too', () => {
    expect(errorOf(() => new ModelCatalog(write('bad.json', '{"models": [')).list())).toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringMatching(/not valid JSON/) });
    expect(errorOf(() => new ModelCatalog(join(dir.path, 'absent.json')).list())).toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringMatching(/Cannot read/) });
  });
});
