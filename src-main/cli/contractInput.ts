import { z } from 'zod';
import { calls, type CallInput, type CallName } from '#contract/api';
import { UsageError } from './usageError';

/**
 * Checks what a command hands the core against the contract schema of the call it stands for,
 * so the CLI takes exactly what the API takes (a 5,000-character collection name is refused by
 * both). Returns the parsed input (trimmed where the schema trims). A refusal is a usage error
 * (exit 2) naming the argument as the command line spells it.
 */
export function contractInput<N extends CallName>(
  name: N,
  input: CallInput<N>,
  command: string,
  /** The command line's name for each input field, e.g. { name: '--collection NAME' }. */
  labels: Readonly<Record<string, string>> = {},
): CallInput<N> {
  const parsed = calls[name].input.safeParse(input);
  if (parsed.success) return parsed.data as CallInput<N>;
  throw usageError(parsed.error.issues[0], command, labels);
}

/**
 * contractInput for some fields of a call's input only, where the command line spells the rest
 * differently (`vault restore --folder DIR` names a folder, the call a saved target): each given
 * field is checked against the call's schema for that field. Returns the parsed fields.
 */
export function contractFields<N extends CallName, K extends keyof CallInput<N> & string>(
  name: N,
  fields: Pick<CallInput<N>, K>,
  command: string,
  labels: Readonly<Record<string, string>> = {},
): Pick<CallInput<N>, K> {
  const schema = calls[name].input;
  if (!(schema instanceof z.ZodObject)) throw new Error(`${name}: its input is not an object`);
  const shape: Record<string, z.ZodType> = {};
  for (const key of Object.keys(fields)) {
    const field = (schema.shape as Record<string, z.ZodType | undefined>)[key];
    if (!field) throw new Error(`${name} takes no field ${key}`);
    shape[key] = field;
  }
  const parsed = z.strictObject(shape).safeParse(fields);
  if (parsed.success) return parsed.data as Pick<CallInput<N>, K>;
  throw usageError(parsed.error.issues[0], command, labels);
}

function usageError(issue: z.core.$ZodIssue | undefined, command: string, labels: Readonly<Record<string, string>>): UsageError {
  const field = issue?.path.map(String) ?? [];
  const label = labels[field[0] ?? ''] ?? (field.length ? field.join('.') : 'input');
  return new UsageError(`${label}: ${issue?.message ?? 'not a valid value'}`, command);
}
