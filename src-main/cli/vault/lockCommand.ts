import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { withVaultCore } from './vaultHelpers';

/** `hearth vault lock`: forgets a remembered passphrase. */
export const lockCommand = defineCommand({
  name: 'lock',
  summary: 'Forget a remembered passphrase',
  description: 'Forgets a remembered passphrase: snapshots need it again. The wallet stays stored.',
  options: { ...jsonOption('Print the vault status as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      const status = await core.vault.lock();
      printResult(ctx, options.json, status, 'Locked: the passphrase is no longer remembered; commands that need the wallet ask for it again.');
      return 0;
    }),
});
