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
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String) ?? [];
  const label = labels[field[0] ?? ''] ?? (field.length ? field.join('.') : 'input');
  throw new UsageError(`${label}: ${issue?.message ?? 'not a valid value'}`, command);
}
