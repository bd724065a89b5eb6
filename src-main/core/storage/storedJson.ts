import type { z } from 'zod';
import type { Logger } from '../common/logger';

/** What reading a stored value gave: the value in its checked shape, or why it could not be used. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: string };

/** One line naming each field that is wrong, e.g. `url: Invalid input: expected string, received undefined`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(the value)'}: ${issue.message}`).join('; ');
}

/** Checks a value read back from disk (already parsed) against its schema; never throws. */
export function decodeValue<T>(schema: z.ZodType<T>, value: unknown): Decoded<T> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, problem: describeIssues(result.error) };
}

/** Parses JSON read back from disk and checks it against its schema; never throws. */
export function decodeJson<T>(schema: z.ZodType<T>, text: string): Decoded<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON (${(error as Error).message})` };
  }
  return decodeValue(schema, value);
}

/**
 * Reads JSON columns and files with a documented fallback: a value that is not JSON or has
 * the wrong shape gives the fallback and one warning. Values are read often (settings on
 * every reply, sources on every thread load), so each bad value is logged once, not on
 * every read.
 */
export class StoredJsonReader {
  private readonly warned = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** `where` names the value for the log (e.g. `setting "temperature"`), `fallback` says what is used instead. */
  read<T, F>(schema: z.ZodType<T>, text: string, where: string, fallback: F, fallbackMeans: string): T | F {
    const decoded = decodeJson(schema, text);
    if (decoded.ok) return decoded.value;
    const key = `${where}\0${text}`;
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.logger.warn(`${where} could not be read (${decoded.problem}); ${fallbackMeans}`);
    }
    return fallback;
  }
}
