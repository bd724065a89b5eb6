import { HearthError } from '../../core/common/hearthError';
import type { VaultCheckReport, VaultGcReport } from '../../core/vault/vaultMaintenance';
import { defineCommand } from '../declare/commandSpec';
import { formatBytes } from '../format';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { withVaultCore } from './vaultHelpers';

/** `hearth vault check`: every recorded snapshot's blocks verified; what gc would reclaim. */
export const checkCommand = defineCommand({
  name: 'check',
  summary: "Verify every snapshot's blocks; report orphans and unfinished writes",
  description: `Reads every block each snapshot recorded on this machine needs, checks it against its CID,
and that each root and its chunk lists decode and name only recorded blocks. Also reports
what a killed snapshot or publish left behind (blocks no snapshot references, unfinished
.tmp writes, capture folders, CAR files): hearth vault gc deletes those. Runs under the
vault lock, so it waits for a snapshot in progress (in any process) to finish.`,
  options: { ...jsonOption('Print the report as JSON'), ...coreOptions },
  positionals: {},
  notes: `Exit codes: 0 every recorded snapshot is intact (leftovers are reported, not errors),
1 error (printed as "error CODE: message": INTEGRITY_ERROR when a snapshot's blocks are
missing or damaged, LOCK_HELD), 2 bad usage.`,
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const report = await core.vault.check();
      printResult(ctx, options.json, report, () => checkText(report));
      if (report.ok) return 0;
      const snapshots = new Set(report.problems.map((p) => p.snapshot)).size;
      throw new HearthError(
        'INTEGRITY_ERROR',
        `${report.problems.length} block${report.problems.length === 1 ? '' : 's'} of ${snapshots} snapshot${snapshots === 1 ? '' : 's'} missing or damaged; take a new snapshot (and publish it).`,
      );
    }),
});

/** `hearth vault gc`: deletes what no recorded snapshot needs. */
export const gcCommand = defineCommand({
  name: 'gc',
  summary: 'Delete blocks no snapshot needs and what killed snapshots left',
  description: `Deletes the blocks in vault/blocks that no snapshot recorded on this machine references
(written by a snapshot that was killed, or left by an interrupted retention), unfinished
.tmp block writes, capture folders of killed snapshots and CAR files of killed publishes.
Takes the vault lock, so a snapshot running in another process is never touched: gc waits
for it. The next snapshot after a killed one does the same on its own.`,
  options: { ...jsonOption('Print what was deleted as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const report = await core.vault.gc();
      printResult(ctx, options.json, report, () => gcText(report));
      return 0;
    }),
});

function counted(what: { count: number; bytes: number }, noun: string): string {
  return `${what.count} ${noun}${what.count === 1 ? '' : 's'} (${formatBytes(what.bytes)})`;
}

function checkText(report: VaultCheckReport): string {
  const lines = [
    `${report.snapshots} snapshot${report.snapshots === 1 ? '' : 's'}, ${report.blocksChecked} blocks read and checked against their CIDs: ` +
      (report.ok ? 'all intact.' : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}.`),
    ...report.problems.map((p) => `  snapshot ${p.snapshot}: block ${p.block} ${p.problem}`),
    `Not referenced by any snapshot: ${counted(report.orphans, 'block')}; unfinished writes: ${counted(report.tempFiles, 'temp file')}; leftovers: ${report.leftovers.length}.`,
  ];
  if (report.orphans.count + report.tempFiles.count + report.leftovers.length > 0) lines.push('Reclaim them with: hearth vault gc');
  return lines.join('\n');
}

function gcText(report: VaultGcReport): string {
  return `Deleted ${counted(report.orphans, 'unreferenced block')}, ${counted(report.tempFiles, 'temp file')} and ${report.leftovers.length} leftover${report.leftovers.length === 1 ? '' : 's'}.`;
}
