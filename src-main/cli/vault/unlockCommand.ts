import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { rememberNotice, rememberOption, requirePassphrase, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault unlock [--remember]`: checks the passphrase, and may keep it. */
export const unlockCommand = defineCommand({
  name: 'unlock',
  summary: 'Check the passphrase; --remember keeps it so nothing asks again',
  description: `Checks the passphrase against the stored wallet. Each command unlocks on its own, so this
is useful with --remember: the passphrase is then kept and nothing asks for it again until
"hearth vault lock". Where it is kept: in the Secret Service (GNOME Keyring, KWallet,
KeePassXC) when secret-tool (libsecret-tools) is installed and one answers on the session
bus; otherwise in the data directory (secrets.json, encrypted under secret.key beside it),
where anyone who can copy that directory can recover it: a convenience, not a safe, and said
so when it happens. Hearth's snapshots never include either file.`,
  options: { ...rememberOption('Keep the passphrase'), ...jsonOption('Print the vault status as JSON'), ...passphraseOption(), ...coreOptions },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const passphrase = await requirePassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const status = await core.vault.unlock({ passphrase, remember: options.remember ? true : undefined });
      if (options.remember) await rememberNotice(core, ctx, options);
      printResult(
        ctx,
        options.json,
        status,
        options.remember
          ? `Unlocked ${status.address}; the passphrase is remembered, so commands, the server and the app no longer ask for it.`
          : `The passphrase unlocks ${status.address}. (Each command unlocks on its own; --remember keeps the passphrase.)`,
      );
      return 0;
    }, passphrase);
  },
});
