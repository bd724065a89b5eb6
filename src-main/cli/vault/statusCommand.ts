import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { withVaultCore } from './vaultHelpers';
import { statusText } from './vaultText';

/** `hearth vault status`. */
export const statusCommand = defineCommand({
  name: 'status',
  summary: 'State, address, schedule, last snapshot',
  description: `Shows the vault's state (none: no wallet yet; locked: a passphrase is needed; unlocked:
the passphrase is remembered), the wallet address, the schedule and the last snapshot.`,
  options: { ...jsonOption('Print the status as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withVaultCore(options, ctx, async (core) => {
      // The core unlocks with a remembered passphrase in the background; wait for it, so the state shown is settled.
      const status = await core.vault.unlockRemembered();
      printResult(ctx, options.json, status, () => statusText(status, core.vault.targets()));
      return 0;
    }),
});
