import type { CliContext } from './cliContext';
import { commandArgs, coreOptions } from './commandArgs';
import { json, threadTable } from './format';
import { helpText } from './helpText';
import { openCore } from './openCore';
import { UsageError } from './usageError';

/** `hearth threads ls`. */
export async function threadsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError('Which threads command: ls?', 'threads');
    ctx.stdout(`${helpText.threads}\n`);
    return 0;
  }
  if (sub !== 'ls') throw new UsageError(`Unknown command "threads ${sub}"`, 'threads');
  const { values, positionals } = commandArgs('threads ls', rest, { ...coreOptions, json: { type: 'boolean' } });
  if (values.help) {
    ctx.stdout(`${helpText['threads ls']}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`, 'threads ls');

  const core = openCore('threads ls', values, ctx, 'warn');
  try {
    const threads = core.chat.listThreads();
    if (values.json) ctx.stdout(json(threads));
    else ctx.stdout(threads.length ? `${threadTable(threads)}\n` : 'No chats yet.\n');
    return 0;
  } finally {
    await core.dispose();
  }
}
