import { VAULT_TARGET_KINDS } from '#contract/vocabulary';
import { isAbortError } from '../../core/common/hearthError';
import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { arg } from '../declare/positionals';
import { terminalSafe } from '../format';
import { interrupted, whileInterruptible } from '../jobProgress';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { UsageError } from '../usageError';
import { contractInput } from '../contractInput';
import { VAULT_EXIT, withVaultCore } from './vaultHelpers';

const KINDS = VAULT_TARGET_KINDS;
const USAGE = 'Usage: vault target add folder DIR | kubo URL | w3up EMAIL';

/** `hearth vault target add folder DIR | kubo URL | w3up EMAIL`. */
export const targetAddCommand = defineCommand({
  name: 'add',
  summary: 'Where snapshots are published: folder DIR, kubo URL, w3up EMAIL',
  usage: `folder DIR | kubo URL | w3up EMAIL
                              [--name NAME] [--space NAME] [--json] [options]`,
  description: `Adds a place to publish snapshots to. Folder and IPFS-node targets also keep a sealed
"latest snapshot" record, so a restore from them needs only the recovery phrase; with
web3.storage a restore needs the snapshot's CID.

  folder DIR      A folder: a USB drive, a NAS share, a synced folder
  kubo URL        An IPFS node's RPC API, e.g. http://127.0.0.1:5001
  w3up EMAIL      web3.storage / Storacha (confirm the emailed link; Ctrl+C gives up)`,
  interrupt: 'cancel',
  options: {
    name: text('NAME', 'A name to refer to it by (default: from its kind and location)'),
    space: text('NAME', 'w3up only: the space to use or create (default: "Hearth")'),
    ...jsonOption('Print the target as JSON'),
    ...coreOptions,
  },
  positionals: {
    kind: arg('KIND', 'folder, kubo or w3up', USAGE),
    location: arg('LOCATION', 'The folder DIR, the node’s URL or the EMAIL of the web3.storage account', USAGE),
  },
  notes: VAULT_EXIT,
  async run({ command, options, args }, ctx) {
    const kind = KINDS.find((k) => k === args.kind);
    if (!kind) throw new UsageError(USAGE, command);
    if (kind !== 'w3up' && options.space !== undefined) throw new UsageError('--space is for w3up targets', command);
    const value = args.location;
    const name = options.name === undefined ? {} : { name: options.name };
    const input = contractInput(
      'vault.addTarget',
      kind === 'folder'
        ? { kind, path: value, ...name }
        : kind === 'kubo'
          ? { kind, apiUrl: value, ...name }
          : { kind: 'w3up', email: value, ...(options.space === undefined ? {} : { space: options.space }), ...name },
      command,
      { path: 'DIR', apiUrl: 'URL', email: 'EMAIL', name: '--name NAME', space: '--space NAME' },
    );
    return withVaultCore(options, ctx, async (core) => {
      const abort = new AbortController();
      try {
        if (kind === 'w3up') ctx.stderr(`Check ${terminalSafe(value)} and click the link web3.storage sent to authorise Hearth (Ctrl+C gives up).\n`);
        const target = await whileInterruptible(
          ctx,
          () => abort.abort(),
          () => core.vault.addTarget(input, { signal: abort.signal }),
        );
        printResult(ctx, options.json, target, `Added ${terminalSafe(target.name)} (${target.id}). Publish to it with: hearth vault snapshot --publish ${target.id}`);
        return 0;
      } catch (error) {
        if (abort.signal.aborted && isAbortError(error)) return interrupted('cancel', ctx);
        throw error;
      }
    });
  },
});
