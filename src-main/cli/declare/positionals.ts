import { UsageError } from '../usageError';

/**
 * A positional argument, declared once with its help. 'one' is required, 'optional' may be
 * left out, 'words' takes every remaining word, joined by spaces (a question, a query).
 */
export interface PositionalSpec<V> {
  readonly kind: 'one' | 'optional' | 'words';
  /** Its placeholder in usage and help (SOURCE, PATH, QUERY). */
  readonly name: string;
  readonly help: string;
  /** The usage error when it is missing (default: "<command> needs NAME"). */
  readonly missing: string | null;
  /** A phantom: the type the command receives. */
  readonly _value?: V;
}

export type Positionals = Readonly<Record<string, PositionalSpec<unknown>>>;

export type PositionalValues<P> = { -readonly [K in keyof P]: P[K] extends PositionalSpec<infer V> ? V : never };

export function arg(name: string, help: string, missing?: string): PositionalSpec<string> {
  return { kind: 'one', name, help, missing: missing ?? null };
}

export function optionalArg(name: string, help: string): PositionalSpec<string | undefined> {
  return { kind: 'optional', name, help, missing: null };
}

export function words(name: string, help: string, missing?: string): PositionalSpec<string> {
  return { kind: 'words', name, help, missing: missing ?? null };
}

/** Assigns the command line's positionals to the declared ones, in order. */
export function readPositionals(declared: Positionals, given: readonly string[], command: string): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  let next = 0;
  for (const [key, spec] of Object.entries(declared)) {
    if (spec.kind === 'words') {
      const joined = given.slice(next).join(' ').trim();
      next = given.length;
      if (!joined) throw new UsageError(spec.missing ?? `${command} needs ${spec.name}`, command);
      values[key] = joined;
      continue;
    }
    const value = given[next];
    if (value === undefined && spec.kind === 'one') throw new UsageError(spec.missing ?? `${command} needs ${spec.name}`, command);
    if (value !== undefined) next += 1;
    values[key] = value;
  }
  const extra = given[next];
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, command);
  return values;
}
