import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { phraseFileOption, readPhrase, rememberNotice, rememberOption, requirePassphrase, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault import --phrase-file F`: an existing wallet, brought to this library. */
export const importCommand = defineCommand({
  name: 'import',
  summary: 'Bring an existing wallet (its recovery phrase) to this library',
  description: `Stores the wallet of an existing recovery phrase in this library, encrypted with the
passphrase, so this machine takes and publishes snapshots under the same identity.`,
  options: {
    ...phraseFileOption,
    ...rememberOption(),
    ...jsonOption('Print the vault status as JSON'),
    ...passphraseOption(),
    ...coreOptions,
  },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const phrase = await readPhrase(options, ctx, command);
    const passphrase = await requirePassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const status = await core.vault.import({ phrase, passphrase, remember: options.remember });
      if (options.remember) await rememberNotice(core, ctx, options);
      printResult(ctx, options.json, status, `Imported wallet ${status.address}. Back up with: hearth vault snapshot`);
      return 0;
    }, passphrase);
  },
});
