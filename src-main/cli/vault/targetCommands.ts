import { defineCommand, defineGroup } from '../declare/commandSpec';
import { arg } from '../declare/positionals';
import { terminalSafe } from '../format';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { targetAddCommand } from './targetAddCommand';
import { findTarget, VAULT_EXIT, withVaultCore } from './vaultHelpers';
import { NO_TARGETS, targetTable } from './vaultText';

/** `hearth vault target ls|rm|uploads` (add has its own file). */

const ls = defineCommand({
  name: 'ls',
  summary: 'List the targets',
  description: 'Lists the targets: id, kind, name, location.',
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const targets = core.vault.targets();
      printResult(ctx, options.json, targets, () => (targets.length ? targetTable(targets) : NO_TARGETS));
      return 0;
    }),
});

const rm = defineCommand({
  name: 'rm',
  summary: 'Forget a target (what it holds stays there)',
  description: 'Forgets a target. Snapshots already published there are not deleted.',
  options: { ...jsonOption('Print the removed target as JSON'), ...coreOptions },
  positionals: { target: arg('ID|NAME', 'The target’s id or name (hearth vault target ls)', 'vault target rm takes exactly one target ID (or name)') },
  notes: VAULT_EXIT,
  run: ({ options, args }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const target = findTarget(core, args.target);
      core.vault.removeTarget({ targetId: target.id });
      printResult(ctx, options.json, target, `Removed ${terminalSafe(target.name)} (${target.id}); what was published there stays there.`);
      return 0;
    }),
});

const uploads = defineCommand({
  name: 'uploads',
  summary: 'What a web3.storage space or a folder holds (root CIDs)',
  description: `Lists what a target holds by snapshot root CID, including what other machines published
there: a web3.storage space's uploads, or the CAR files in a folder. (For an IPFS node, ask
the node: ipfs pin ls.)`,
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: { target: arg('ID|NAME', 'The target’s id or name (hearth vault target ls)', 'vault target uploads takes exactly one target ID (or name)') },
  run: ({ options, args }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const list = await core.vault.uploads(findTarget(core, args.target).id);
      printResult(ctx, options.json, list, () => (list.length ? list.map((u) => `${u.at ?? '-'}  ${u.root}`).join('\n') : 'Nothing there yet.'));
      return 0;
    }),
});

export const targetCommand = defineGroup({
  name: 'target',
  summary: 'Where snapshots are published: folder DIR, kubo URL, w3up EMAIL',
  commands: [targetAddCommand, rm, ls, uploads],
});
