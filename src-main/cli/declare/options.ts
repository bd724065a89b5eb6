import { UsageError } from '../usageError';

/** Turns one raw option value into what the command gets; throws a UsageError for a bad one. */
export type Convert<T> = (raw: string, flag: string, command: string) => T;

/**
 * One option of a command, declared once: the parser, the validation and the help are all
 * generated from it. V is the type the command receives (boolean for a flag, T | undefined
 * for an optional value, T for a required one or one with a default, T[] when repeatable).
 */
export interface OptionSpec<V> {
  /** A flag takes no value (--json); the others take one (--data-dir DIR). */
  readonly kind: 'flag' | 'value';
  /** The value's placeholder in help (DIR, N, PATH); null for a flag. */
  readonly valueName: string | null;
  readonly short: string | null;
  readonly repeatable: boolean;
  readonly required: boolean;
  /** The environment variable read when the option is not given (shown in help). */
  readonly env: string | null;
  /** Help text: lines after the first are indented under it. */
  readonly help: string;
  /** The shared group it comes from (listed after a command's own options, summed up as [options] in usage). */
  readonly group: string | null;
  /** The value, from every occurrence of the option on the command line (or the environment's value). */
  read(raws: readonly string[], flag: string, command: string): V;
}

/** What a declared set of options gives the command. */
export type OptionValues<O> = { -readonly [K in keyof O]: O[K] extends OptionSpec<infer V> ? V : never };

export type Options = Readonly<Record<string, OptionSpec<unknown>>>;

interface Common {
  short: string | null;
  env: string | null;
  help: string;
  group: string | null;
}

class FlagOption implements OptionSpec<boolean> {
  readonly kind = 'flag';
  readonly valueName = null;
  readonly repeatable = false;
  readonly required = false;
  readonly env = null;
  readonly short: string | null;
  readonly help: string;
  readonly group: string | null;

  constructor(common: Omit<Common, 'env'>) {
    this.short = common.short;
    this.help = common.help;
    this.group = common.group;
  }

  read(raws: readonly string[]): boolean {
    return raws.length > 0;
  }

  /** A one-letter alias (-c). */
  alias(short: string): FlagOption {
    return new FlagOption({ ...this, short });
  }

  inGroup(group: string): FlagOption {
    return new FlagOption({ ...this, group });
  }
}

type Mode<T> = { kind: 'optional' } | { kind: 'required'; missing: string | null } | { kind: 'default'; value: T } | { kind: 'repeatable' };

class ValueOption<T, V> implements OptionSpec<V> {
  readonly kind = 'value';
  readonly short: string | null;
  readonly env: string | null;
  readonly help: string;
  readonly group: string | null;

  constructor(
    readonly valueName: string,
    private readonly common: Common,
    private readonly convert: Convert<T>,
    private readonly mode: Mode<T>,
  ) {
    this.short = common.short;
    this.env = common.env;
    this.help = common.help;
    this.group = common.group;
  }

  get repeatable(): boolean {
    return this.mode.kind === 'repeatable';
  }

  get required(): boolean {
    return this.mode.kind === 'required';
  }

  read(raws: readonly string[], flag: string, command: string): V {
    const mode = this.mode;
    if (mode.kind === 'repeatable') return raws.map((raw) => this.convert(raw, flag, command)) as unknown as V;
    const raw = raws.at(-1);
    if (raw !== undefined) return this.convert(raw, flag, command) as unknown as V;
    if (mode.kind === 'required') throw new UsageError(mode.missing ?? `${flag} ${this.valueName} is required`, command);
    return (mode.kind === 'default' ? mode.value : undefined) as V;
  }

  /** The command cannot run without it; `missing` replaces the generic usage error. */
  require(missing?: string): ValueOption<T, T> {
    return new ValueOption<T, T>(this.valueName, this.common, this.convert, { kind: 'required', missing: missing ?? null });
  }

  /** The value when the option is absent (say it in the help text). */
  orElse(value: T): ValueOption<T, T> {
    return new ValueOption<T, T>(this.valueName, this.common, this.convert, { kind: 'default', value });
  }

  /** May be given several times; the command gets every value, in order. */
  repeat(): ValueOption<T, T[]> {
    return new ValueOption<T, T[]>(this.valueName, this.common, this.convert, { kind: 'repeatable' });
  }

  /** Read from this environment variable when the option is not given. */
  fromEnv(name: string): ValueOption<T, V> {
    return new ValueOption<T, V>(this.valueName, { ...this.common, env: name }, this.convert, this.mode);
  }

  /** A one-letter alias (-n). */
  alias(short: string): ValueOption<T, V> {
    return new ValueOption<T, V>(this.valueName, { ...this.common, short }, this.convert, this.mode);
  }

  inGroup(group: string): ValueOption<T, V> {
    return new ValueOption<T, V>(this.valueName, { ...this.common, group }, this.convert, this.mode);
  }
}

/** A flag: true when given. */
export function flag(help: string): FlagOption {
  return new FlagOption({ short: null, help, group: null });
}

/** An option with a value, given as text. */
export function text(valueName: string, help: string): ValueOption<string, string | undefined> {
  return value(valueName, help, (raw) => raw);
}

/** An option whose value `convert` checks and turns into T. */
export function value<T>(valueName: string, help: string, convert: Convert<T>): ValueOption<T, T | undefined> {
  return new ValueOption<T, T | undefined>(valueName, { short: null, env: null, help, group: null }, convert, { kind: 'optional' });
}

/** A whole number within [min, max]. */
export function integer(valueName: string, help: string, range: { min: number; max: number }): ValueOption<number, number | undefined> {
  return value(valueName, help, (raw, flagName, command) => parseInteger(raw, flagName, command, range));
}

/** One of a closed list (matched case-insensitively). */
export function choice<T extends string>(valueName: string, choices: readonly T[], help: string): ValueOption<T, T | undefined> {
  return value(valueName, help, (raw, flagName, command) => parseChoice(raw, choices, flagName, command));
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[], flagName: string, command: string): T {
  const found = choices.find((c) => c === raw.toLowerCase());
  if (found === undefined) throw new UsageError(`${flagName} must be one of ${choices.join(', ')}, not "${raw}"`, command);
  return found;
}

/** A whole number within [min, max] given as an option value. */
export function parseInteger(raw: string, flagName: string, command: string, { min, max }: { min: number; max: number }): number {
  const number = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flagName} must be a whole number from ${min} to ${max}, not "${raw}"`, command);
  }
  return number;
}

/** yes/no (also on/off, true/false). */
export function yesNo(valueName: string, help: string): ValueOption<boolean, boolean | undefined> {
  return value(valueName, help, (raw, flagName, command) => {
    if (/^(yes|on|true)$/i.test(raw)) return true;
    if (/^(no|off|false)$/i.test(raw)) return false;
    throw new UsageError(`${flagName} must be yes or no, not "${raw}"`, command);
  });
}
