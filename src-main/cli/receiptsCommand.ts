import { resolve } from 'node:path';
import { HearthError } from '../core/common/hearthError';
import { writeFileAtomic } from '../core/common/atomicFile';
import { defineCommand, defineGroup } from './declare/commandSpec';
import { flag, text } from './declare/options';
import { arg } from './declare/positionals';
import { withCore } from './openCore';
import { json } from './output';
import { coreOptions } from './sharedOptions';

/** `hearth receipts export THREAD_ID`: a reply's proof bundle, for `hearth verify` anywhere. */
const exportCommand = defineCommand({
  name: 'export',
  summary: "Write a reply's proof bundle (receipt, chain, transcript) as JSON",
  description: `Writes a proof bundle for a reply of the chat THREAD_ID (its latest reply with a receipt,
or --message ID): the receipt, the chat's receipts up to it (the chain), and the full transcript
the model was given: system prompt, passages, earlier turns, question and answer. Whoever has
the same model file can check it with \`hearth verify FILE --model PATH\`, without your data.
The transcript holds your conversation: leave it out with --receipt-only.`,
  options: {
    message: text('ID', "The reply to export (default: the chat's latest reply with a receipt)"),
    output: text('FILE', 'Write the bundle to FILE (default: standard output)').alias('o'),
    'receipt-only': flag('Leave the transcript out: only the receipt and its chain'),
    ...coreOptions,
  },
  positionals: { thread: arg('THREAD_ID', 'The chat (see `hearth threads ls`)') },
  notes: 'Exit codes: 0 written, 1 error (e.g. NOT_FOUND: the reply has no receipt), 2 bad usage.',
  run: ({ options, args }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const thread = core.chat.getThread(args.thread);
        const messageId = options.message ?? thread.messages.filter((m) => m.role === 'assistant' && m.receipt !== 'none').at(-1)?.id;
        if (!messageId) throw new HearthError('NOT_FOUND', 'No reply of this chat has a receipt (receipts are made once a wallet exists).');
        const bundle = await core.verification.exportBundle(messageId, !options['receipt-only']);
        if (options.output === undefined) ctx.stdout(json(bundle));
        else {
          await writeFileAtomic(resolve(options.output), json(bundle), 0o600);
          ctx.stderr(`Wrote the proof bundle of reply ${messageId} to ${options.output}${bundle.transcript ? ' (with its transcript)' : ''}.\n`);
        }
        return 0;
      },
      { library: { watch: false } },
    ),
});

export const receiptsCommand = defineGroup({ name: 'receipts', summary: 'Answer receipts: export proof bundles', commands: [exportCommand] });
