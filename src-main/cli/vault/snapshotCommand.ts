import { HearthError } from '../../core/common/hearthError';
import { defineCommand } from '../declare/commandSpec';
import { flag, text } from '../declare/options';
import { formatBytes, terminalSafe } from '../format';
import { jobExitCode, waitForJob } from '../jobProgress';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { findTarget, readPassphrase, unlockVault, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault snapshot`: an encrypted snapshot job, optionally published right after. */
export const snapshotCommand = defineCommand({
  name: 'snapshot',
  summary: 'Take a snapshot (progress bar); prints its CID',
  description: `Takes an encrypted snapshot of the library as a job with a progress bar: the database and
the index are captured consistently (the app may keep running), split into chunks,
encrypted and signed; chunks an earlier snapshot has are not stored again. Files unchanged
since the previous snapshot (same size, mtime, inode and ctime) are not read again; --full
reads every file (done on its own once a week or every 50th snapshot). Prints the
snapshot's CID on stdout (a summary goes to stderr).`,
  interrupt: 'cancel',
  options: {
    models: flag('Include downloaded models (large)'),
    documents: flag('Include the source documents of your collections'),
    publish: text('TARGET', 'Then publish it to TARGET (a target id or name)'),
    full: flag('Read every file, even those unchanged since the last snapshot (a full verify)'),
    ...jsonOption('Print the snapshot as JSON'),
    ...passphraseOption('Not needed when the passphrase is remembered.'),
    ...coreOptions,
  },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options, interrupt }, ctx) {
    const passphrase = await readPassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      await unlockVault(core, passphrase);
      const target = options.publish === undefined ? null : findTarget(core, options.publish);
      const before = core.vault.snapshots()[0]?.cid ?? null;
      const job = core.vault.startSnapshot({ includeModels: options.models, includeDocuments: options.documents, targetId: target?.id ?? null, full: options.full });
      const done = await waitForJob(core, job, ctx, { quiet: options.json, interrupt });
      const latest = core.vault.snapshots()[0] ?? null;
      const made = latest && latest.cid !== before ? latest : null;
      if (done.status !== 'completed') {
        if (made && target) {
          ctx.stderr(`Snapshot ${made.cid} was taken but not published. Publish it with: hearth vault publish ${made.cid} --to ${target.id}\n`);
        }
        return jobExitCode(done, ctx);
      }
      if (!made) throw new HearthError('INTERNAL', 'The snapshot job finished but recorded no snapshot.');
      printResult(ctx, options.json, made, `${made.cid}`);
      if (!options.json) {
        const where = target ? `; published to ${terminalSafe(target.name)}` : '; kept on this machine (publish it with: hearth vault publish --to TARGET)';
        ctx.stderr(`Snapshot of ${made.files} files (${formatBytes(made.bytes)}, ${formatBytes(made.readBytes)} read), ${formatBytes(made.newBytes)} new${where}.\n`);
      }
      return 0;
    }, passphrase);
  },
});
