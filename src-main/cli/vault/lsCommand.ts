import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { withVaultCore } from './vaultHelpers';
import { NO_TARGETS, snapshotTable, targetTable } from './vaultText';

/** `hearth vault ls`: the snapshots this machine keeps, then the targets. */
export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'Snapshots (created, CID, files, size, new bytes, where published) and targets',
  description: `Lists the snapshots this machine keeps, newest first (created, CID, files, size, the
encrypted bytes each added, the targets it was published to), then the targets.`,
  options: { ...jsonOption('Print {"snapshots": [...], "targets": [...]} as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const snapshots = core.vault.snapshots();
      const targets = core.vault.targets();
      printResult(
        ctx,
        options.json,
        { snapshots, targets },
        () =>
          `${snapshots.length ? snapshotTable(snapshots) : 'No snapshots yet. Take one with: hearth vault snapshot'}\n\n` +
          `${targets.length ? targetTable(targets) : NO_TARGETS}`,
      );
      return 0;
    }),
});
