import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { rememberOption, requirePassphrase, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault unlock [--remember]`: checks the passphrase, and may keep it. */
export const unlockCommand = defineCommand({
  name: 'unlock',
  summary: 'Check the passphrase; --remember keeps it so nothing asks again',
  description: `Checks the passphrase against the stored wallet. Each command unlocks on its own, so this
is useful with --remember: the passphrase is then kept in the data directory's secret store
(secrets.json, encrypted with a key kept beside it: a convenience, not a safe) and nothing
asks for it again until "hearth vault lock".`,
  options: { ...rememberOption('Keep the passphrase'), ...jsonOption('Print the vault status as JSON'), ...passphraseOption(), ...coreOptions },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const passphrase = await requirePassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const status = await core.vault.unlock({ passphrase, remember: options.remember ? true : undefined });
      printResult(
        ctx,
        options.json,
        status,
        options.remember
          ? `Unlocked ${status.address}; the passphrase is remembered, so commands, the server and the app no longer ask for it.`
          : `The passphrase unlocks ${status.address}. (Each command unlocks on its own; --remember keeps the passphrase.)`,
      );
      return 0;
    });
  },
});
