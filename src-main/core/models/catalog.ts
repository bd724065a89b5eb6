import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CatalogEntry, CatalogFile } from '#contract/dto';
import { MODEL_PURPOSES, MODEL_TIERS } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';

/**
 * The zod twin of models/catalog.schema.json: the JSON Schema documents the file for people
 * and editors, this one checks it at run time. tests/unit/catalog.test.ts checks both agree
 * on the shipped file.
 */
const quantization = z.string().regex(/^[A-Z0-9_]+$/, 'an upper-case quantization like Q4_K_M').max(40);

const catalogFileSchema = z
  .object({
    quantization,
    file: z
      .string()
      .max(500)
      .regex(/^[^/\\][^\\]*\.gguf$/, 'a .gguf path inside the repository'),
    sizeBytes: z.number().int().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha256').nullable(),
  })
  .strict();

const catalogEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes').max(100),
    name: z.string().min(1).max(100),
    family: z.string().min(1).max(50),
    parameters: z.string().regex(/^[0-9]+(\.[0-9]+)?[MB]$/, 'a count like 1.5B or 137M'),
    purpose: z.enum(MODEL_PURPOSES),
    tier: z.enum(MODEL_TIERS),
    repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'a repository like owner/name').max(200),
    license: z.string().min(1).max(100),
    contextLength: z.number().int().min(256),
    description: z.string().min(1).max(500),
    recommendedQuantization: quantization,
    files: z.array(catalogFileSchema).min(1),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if (!entry.files.some((f) => f.quantization === entry.recommendedQuantization)) {
      ctx.addIssue({ code: 'custom', path: ['recommendedQuantization'], message: `${entry.recommendedQuantization} is not one of its files` });
    }
    const seen = new Set<string>();
    for (const [i, f] of entry.files.entries()) {
      if (seen.has(f.quantization)) ctx.addIssue({ code: 'custom', path: ['files', i, 'quantization'], message: `${f.quantization} is listed twice` });
      seen.add(f.quantization);
    }
  });

const catalogSchema = z
  .object({
    $schema: z.string().min(1),
    version: z.literal(1),
    models: z.array(z.unknown()).min(1),
  })
  .strict();

/**
 * The curated catalog shipped in models/catalog.json. Read and validated once, on first use,
 * so a damaged file fails the catalog calls with a clear CORRUPT_FILE instead of stopping
 * the whole app at start.
 */
export class ModelCatalog {
  private entries: CatalogEntry[] | null = null;

  constructor(private readonly path: string) {}

  list(): CatalogEntry[] {
    return structuredClone(this.load());
  }

  get(id: string): CatalogEntry {
    const entry = this.load().find((e) => e.id === id);
    if (!entry) throw new HearthError('MODEL_NOT_FOUND', `No model "${id}" in the catalog`);
    return structuredClone(entry);
  }

  /** The file for one quantization of an entry; the recommended one when none is named. */
  file(id: string, quantization?: string): CatalogFile {
    const entry = this.get(id);
    const wanted = quantization ?? entry.recommendedQuantization;
    const file = entry.files.find((f) => f.quantization.toUpperCase() === wanted.toUpperCase());
    if (!file) {
      throw new HearthError(
        'BAD_INPUT',
        `${entry.name} has no ${wanted} file; choose one of ${entry.files.map((f) => f.quantization).join(', ')}`,
      );
    }
    return file;
  }

  private load(): CatalogEntry[] {
    this.entries ??= parseCatalog(this.read(), this.path);
    return this.entries;
  }

  private read(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (error) {
      throw new HearthError('CORRUPT_FILE', `Cannot read the model catalog at ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Validates catalog text; errors name the entry (by id when it has one) and the field. */
export function parseCatalog(text: string, source = 'catalog.json'): CatalogEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HearthError('CORRUPT_FILE', `The model catalog ${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const top = catalogSchema.safeParse(json);
  if (!top.success) throw new HearthError('CORRUPT_FILE', `The model catalog ${source} is invalid: ${describe(top.error.issues[0])}`);

  const entries: CatalogEntry[] = [];
  const ids = new Set<string>();
  for (const [index, raw] of top.data.models.entries()) {
    const parsed = catalogEntrySchema.safeParse(raw);
    const label = entryLabel(raw, index);
    if (!parsed.success) {
      throw new HearthError('CORRUPT_FILE', `The model catalog ${source} has an invalid entry ${label}: ${describe(parsed.error.issues[0])}`);
    }
    if (ids.has(parsed.data.id)) throw new HearthError('CORRUPT_FILE', `The model catalog ${source} lists ${label} twice`);
    ids.add(parsed.data.id);
    entries.push(parsed.data);
  }
  return entries;
}

function entryLabel(raw: unknown, index: number): string {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id ? `"${id}" (models[${index}])` : `models[${index}]`;
}

function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'unknown problem';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
