import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { contractInput } from '../contractInput';
import { terminalSafe } from '../format';
import { printResult } from '../output';
import { coreOptions, jsonOption, passphraseOption } from '../sharedOptions';
import { readPassphrase, unlockVault, VAULT_EXIT, withVaultCore } from './vaultHelpers';

/** `hearth vault sign [--thread ID]`: signs the answer receipts stored unsigned while the vault was locked. */
export const signCommand = defineCommand({
  name: 'sign',
  summary: 'Sign the answer receipts made while the vault was locked',
  description: `Replies made while the vault was locked keep an unsigned answer receipt. This signs them
with the wallet: every chat's, or one chat's with --thread. A receipt is signed only when its
stored hash matches its fields and its chain link names the receipt before it; the others are
listed with the reason and stay unsigned (exit 1).`,
  options: {
    thread: text('ID', "Only this chat's receipts"),
    ...jsonOption('Print {"signed", "refused"} as JSON'),
    ...passphraseOption('Not needed when the passphrase is remembered.'),
    ...coreOptions,
  },
  positionals: {},
  notes: VAULT_EXIT,
  async run({ command, options }, ctx) {
    const { threadId } = contractInput('receipts.sign', options.thread === undefined ? {} : { threadId: options.thread }, command, { threadId: '--thread ID' });
    const passphrase = await readPassphrase(options, ctx, command);
    return withVaultCore(options, ctx, async (core) => {
      await unlockVault(core, passphrase);
      const result = await core.receipts.signPending(threadId ?? null);
      printResult(ctx, options.json, result, `Signed ${result.signed} receipt(s).`);
      if (!options.json) for (const { messageId, reason } of result.refused) ctx.stderr(`not signed: ${messageId}: ${terminalSafe(reason)}\n`);
      return result.refused.length > 0 ? 1 : 0;
    }, passphrase);
  },
});
