import type { CliContext } from './cliContext';
import { commandArgs, coreOptions } from './commandArgs';
import { json, modelTable } from './format';
import { helpText } from './helpText';
import { openCore } from './openCore';
import { UsageError } from './usageError';

/** `hearth models ls|add|rm`. */
export async function modelsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError('Which models command: ls, add or rm?', 'models');
    ctx.stdout(`${helpText.models}\n`);
    return 0;
  }
  if (sub !== 'ls' && sub !== 'add' && sub !== 'rm') throw new UsageError(`Unknown command "models ${sub}"`, 'models');
  const command = `models ${sub}`;
  const { values, positionals } = commandArgs(command, rest, { ...coreOptions, json: { type: 'boolean' } });
  if (values.help) {
    ctx.stdout(`${helpText[command]}\n`);
    return 0;
  }
  const expected = sub === 'ls' ? 0 : 1;
  if (positionals.length !== expected) {
    throw new UsageError(
      expected === 0 ? `Unexpected argument "${positionals[0]}"` : `${command} takes exactly one ${sub === 'add' ? 'PATH' : 'ID'}`,
      command,
    );
  }

  const core = openCore(command, values, ctx, 'warn');
  try {
    if (sub === 'ls') {
      const models = await core.models.list();
      if (values.json) ctx.stdout(json(models));
      else ctx.stdout(models.length ? `${modelTable(models)}\n` : 'No models yet. Add one with: hearth models add PATH\n');
    } else if (sub === 'add') {
      const model = await core.models.add(positionals[0]!);
      if (values.json) ctx.stdout(json(model));
      else ctx.stdout(`Added ${model.name} as ${model.id}\n`);
    } else {
      core.models.remove(positionals[0]!);
      if (values.json) ctx.stdout(json(null));
      else ctx.stdout(`Removed ${positionals[0]}\n`);
    }
    return 0;
  } finally {
    await core.dispose();
  }
}
