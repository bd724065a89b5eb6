import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../usageError';
import type { Command, CommandInput } from './commandSpec';
import type { Options } from './options';
import { readPositionals, type Positionals } from './positionals';

type Env = Readonly<Record<string, string | undefined>>;

/** Every command takes -h/--help; it is not declared by each. */
const HELP = 'help';

/**
 * Parses a command line against a command's declaration: unknown options, missing values,
 * bad values, missing or extra positionals are UsageErrors (exit code 2) naming `path`.
 * Returns 'help' when -h/--help was given (nothing else is checked then).
 */
export function parseCommand(command: Command, path: string, args: readonly string[], env: Env): CommandInput<Options, Positionals> | 'help' {
  const config: NonNullable<ParseArgsConfig['options']> = { [HELP]: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(command.options)) {
    config[name] = spec.kind === 'flag' ? { type: 'boolean' } : { type: 'string', multiple: true };
    if (spec.short) config[name].short = spec.short;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message, path);
    throw error;
  }
  if (parsed.values[HELP]) return 'help';
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    const given = parsed.values[name];
    const raws = given === undefined || given === false ? [] : given === true ? [''] : Array.isArray(given) ? given.map(String) : [String(given)];
    // An empty variable counts as unset, as resolveDataDir has always read $HEARTH_DATA_DIR.
    const fallback = spec.env && raws.length === 0 ? env[spec.env] : undefined;
    options[name] = fallback ? spec.read([fallback], `$${spec.env}`, path) : spec.read(raws, `--${name}`, path);
  }
  const positionals = readPositionals(command.positionals, parsed.positionals, path);
  return { command: path, options, args: positionals, interrupt: command.interrupt ?? 'cancel' } as CommandInput<Options, Positionals>;
}
