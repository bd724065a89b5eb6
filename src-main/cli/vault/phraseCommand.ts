import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { requirePassphrase, VAULT_EXIT, withVaultCore, WRITE_IT_DOWN } from './vaultHelpers';

/** `hearth vault phrase`: the recovery phrase again, after the passphrase. */
export const phraseCommand = defineCommand({
  name: 'phrase',
  summary: 'Show the recovery phrase again (needs the passphrase)',
  description: 'Prints the recovery phrase of the stored wallet, after checking the passphrase.',
  options: { ...jsonOption('Print {"address", "phrase"} as JSON'), ...passphraseOption(), ...coreOptions },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const passphrase = await requirePassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const { phrase } = await core.vault.revealPhrase({ passphrase });
      const { address } = await core.vault.status();
      printResult(ctx, options.json, { address, phrase }, phrase);
      ctx.stderr(WRITE_IT_DOWN);
      return 0;
    }, passphrase);
  },
});
