import { HearthError } from '../../core/common/hearthError';
import { contractFields } from '../contractInput';
import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { optionalArg } from '../declare/positionals';
import { formatBytes, terminalSafe } from '../format';
import { jobExitCode, waitForJob } from '../jobProgress';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { findTarget, readPassphrase, unlockVault, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault publish [CID] --to TARGET`: a publish job for a snapshot this machine keeps. */
export const publishCommand = defineCommand({
  name: 'publish',
  summary: 'Publish a snapshot (default: the latest) to a target',
  description: `Publishes a snapshot (default: the latest) to a target: one CAR file with only the blocks
the target does not have yet, then, for folders and IPFS nodes, the signed and sealed
"latest snapshot" record. Progress bar.`,
  interrupt: 'cancel',
  options: {
    to: text('TARGET', 'A target id or name (hearth vault target ls)').require('Where to? vault publish [CID] --to TARGET (hearth vault target ls)'),
    ...jsonOption('Print the snapshot (with where it is published) as JSON'),
    ...passphraseOption('Needed for targets that keep the latest-snapshot record, unless remembered.'),
    ...coreOptions,
  },
  positionals: { cid: optionalArg('CID', 'The snapshot to publish (default: the latest)') },
  notes: VAULT_EXIT,
  async run({ command, options, args, interrupt }, ctx) {
    if (args.cid !== undefined) contractFields('vault.publish', { cid: args.cid }, command, { cid: 'CID' });
    const passphrase = await readPassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const target = findTarget(core, options.to);
      const cid = args.cid ?? core.vault.snapshots()[0]?.cid;
      if (!cid) throw new HearthError('NOT_FOUND', 'There is no snapshot to publish yet: take one with hearth vault snapshot.');
      // The latest-snapshot record a target keeps is signed by the wallet.
      if (target.keepsPointer) await unlockVault(core, passphrase);
      const job = core.vault.startPublish({ cid, targetId: target.id });
      const done = await waitForJob(core, job, ctx, { quiet: options.json, interrupt });
      if (done.status !== 'completed') return jobExitCode(done, ctx);
      const snapshot = core.vault.snapshots().find((s) => s.cid === cid);
      printResult(ctx, options.json, snapshot ?? null, () => {
        const publication = snapshot?.publications.filter((p) => p.targetId === target.id).at(-1);
        return `Published ${cid} to ${terminalSafe(target.name)}${publication ? ` (${publication.location}, ${formatBytes(publication.carBytes)} sent)` : ''}.`;
      });
      return 0;
    });
  },
});
