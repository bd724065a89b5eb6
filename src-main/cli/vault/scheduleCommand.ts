import type { VaultSchedule } from '#contract/dto';
import { contractFields } from '../contractInput';
import { defineCommand } from '../declare/commandSpec';
import { flag, integer, text, yesNo } from '../declare/options';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { UsageError } from '../usageError';
import { findTarget, withVaultCore } from './vaultHelpers';
import { scheduleText } from './vaultText';

/** `hearth vault schedule`: shows or changes automatic snapshots. */
export const scheduleCommand = defineCommand({
  name: 'schedule',
  summary: 'Automatic snapshots while the app or server runs',
  usage: `[--every HOURS | --manual] [--to TARGET|none] [--keep N]
                            [--models yes|no] [--documents yes|no]
                            [--keep-model-blocks yes|no] [--json] [options]`,
  description: `Shows or changes automatic snapshots. They run while the desktop app or "hearth serve"
runs and the vault is unlocked (remember the passphrase: hearth vault unlock --remember).`,
  options: {
    every: integer('HOURS', 'Take a snapshot every HOURS hours', { min: 1, max: 24 * 366 }),
    manual: flag('No automatic snapshots'),
    to: text('TARGET', 'Publish each one to TARGET (id or name); none: keep them here only'),
    keep: integer('N', 'How many snapshots this machine keeps', { min: 1, max: 10_000 }),
    models: yesNo('yes|no', 'Include downloaded models'),
    documents: yesNo('yes|no', 'Include source documents'),
    'keep-model-blocks': yesNo('yes|no', 'Keep the sealed blocks of models here once a target holds them (default no: fetched from it when needed)'),
    ...jsonOption('Print the schedule as JSON'),
    ...coreOptions,
  },
  positionals: {},
  async run({ command, options }, ctx) {
    if (options.every !== undefined && options.manual) throw new UsageError('Give --every HOURS or --manual, not both', command);
    const patch: Partial<VaultSchedule> = {};
    if (options.manual) patch.intervalHours = null;
    if (options.every !== undefined) patch.intervalHours = options.every;
    if (options.keep !== undefined) patch.keep = options.keep;
    if (options.models !== undefined) patch.includeModels = options.models;
    if (options.documents !== undefined) patch.includeDocuments = options.documents;
    if (options['keep-model-blocks'] !== undefined) patch.keepModelBlocks = options['keep-model-blocks'];
    // What vault.setSchedule takes (the same ranges the app's settings allow).
    contractFields('vault.setSchedule', patch, command, { intervalHours: '--every HOURS', keep: '--keep N' });
    return withVaultCore(options, ctx, async (core) => {
      if (options.to !== undefined) patch.targetId = options.to.toLowerCase() === 'none' ? null : findTarget(core, options.to).id;
      const schedule = Object.keys(patch).length ? core.vault.setSchedule(patch) : (await core.vault.status()).schedule;
      printResult(ctx, options.json, schedule, () => `Schedule: ${scheduleText(schedule, core.vault.targets())}`);
      return 0;
    });
  },
});
