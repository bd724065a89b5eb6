import { defineCommand } from '../declare/commandSpec';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { rememberNotice, rememberOption, requirePassphrase, VAULT_EXIT, withVaultCore, WRITE_IT_DOWN } from './vaultHelpers';

/** `hearth vault init`: creates the wallet and shows its recovery phrase once. */
export const initCommand = defineCommand({
  name: 'init',
  summary: 'Create the wallet; prints its address and recovery phrase',
  description: `Creates the vault's wallet and stores it in the data directory, encrypted with your
passphrase. Prints the wallet address and the 12-word recovery phrase (stdout); the note
to write it down goes to stderr. The phrase is the only way to restore your backups on
another machine: write it down now.`,
  options: {
    ...rememberOption('Keep the passphrase, so snapshots (and the scheduler in the app or server) need not ask (where: "hearth vault unlock --help")'),
    ...jsonOption('Print {"address", "phrase"} as JSON'),
    ...passphraseOption(),
    ...coreOptions,
  },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const passphrase = await requirePassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      const created = await core.vault.create({ passphrase, remember: options.remember });
      if (options.remember) await rememberNotice(core, ctx, options);
      printResult(ctx, options.json, created, `Wallet address: ${created.address}\nRecovery phrase:\n\n  ${created.phrase}\n\n`);
      ctx.stderr(WRITE_IT_DOWN);
      return 0;
    }, passphrase);
  },
});
