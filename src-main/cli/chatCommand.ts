import { MAX_MESSAGE_CHARS } from '#contract/api';
import type { Message } from '#contract/dto';
import { contractFields } from './contractInput';
import { defineCommand } from './declare/commandSpec';
import { integer, text } from './declare/options';
import { words } from './declare/positionals';
import { backendLine, terminalSafe } from './format';
import { INTERRUPTED } from './jobProgress';
import { openCore } from './openCore';
import { printError } from './output';
import { coreOptions } from './sharedOptions';
import { UsageError } from './usageError';

/**
 * `hearth chat --model PATH QUESTION`: one question, the answer streamed to stdout. Uses
 * the same library, runtime and chat service as the app, so the chat is saved there too.
 */
export const chatCommand = defineCommand({
  name: 'chat',
  summary: 'Ask a local model one question; the answer streams to the terminal',
  description: `Loads the model, answers QUESTION and streams the reply to stdout. The chat is saved, so
it shows up in the app later. Ctrl+C stops the reply (exit code 130); what was written so
far is kept in the chat.`,
  options: {
    model: text('PATH', 'The GGUF model file (required); it is added to the library').require('--model PATH is required').alias('m'),
    system: text('TEXT', 'System prompt for this chat'),
    'max-tokens': integer('N', "Longest reply, in tokens (default: the app's setting)", { min: 1, max: 131_072 }),
    context: integer('N', "Context size in tokens (default: the app's setting, else automatic)", { min: 64, max: 1_048_576 }),
    ...coreOptions,
  },
  positionals: {
    question: words('QUESTION', 'What to ask (several words are joined)', 'Ask a question, e.g. hearth chat --model model.gguf "What is a GGUF file?"'),
  },
  notes: 'Exit codes: 0 answered, 1 error (printed as "error CODE: message"), 2 bad usage,\n130 interrupted.',
  async run({ command, options, args }, ctx) {
    // What chat.send and threads.create take, checked before a model is loaded or a chat saved.
    const { content: question } = contractFields('chat.send', { content: args.question }, command, { content: 'QUESTION' });
    if (question.length > MAX_MESSAGE_CHARS) {
      throw new UsageError(`QUESTION: ${question.length.toLocaleString('en')} characters; the limit is ${MAX_MESSAGE_CHARS.toLocaleString('en')}`, command);
    }
    const { systemPrompt } = contractFields('threads.create', { systemPrompt: options.system }, command, { systemPrompt: '--system TEXT' });
    const core = openCore(options, ctx, 'warn');
    let threadId: string | null = null;
    let interrupted = false;
    const unsubscribeSignal = ctx.onSignal(() => {
      interrupted = true;
      if (threadId) void core.chat.stop(threadId);
    });
    let unsubscribeStream: () => void = () => undefined;
    try {
      ctx.stderr(`${backendLine(await core.runtime.backendInfo())}\n`);
      const model = await core.models.add(options.model);
      if (interrupted) return INTERRUPTED;
      const loaded = await core.runner.load(model.id, { contextSize: options.context });
      ctx.stderr(`Model: ${terminalSafe(loaded.name)} (context ${loaded.contextSize} tokens, ${loaded.chatTemplate})\n`);
      if (interrupted) return INTERRUPTED;

      const thread = core.chat.createThread(undefined, systemPrompt);
      threadId = thread.id;
      // Subscribe before sending; the thread is new, so every event for it is this reply's.
      const ended = new Promise<Message>((done) => {
        unsubscribeStream = core.events.on('chat.stream', (event) => {
          if (event.threadId !== thread.id) return;
          if (event.type === 'token') ctx.stdout(terminalSafe(event.text, { keepLines: true }));
          else if (event.type === 'end') {
            if (event.saveError) ctx.stderr(`\nnote: ${terminalSafe(event.saveError.message)}\n`);
            done(event.message);
          }
        });
      });
      await core.chat.send(thread.id, question, { maxReplyTokens: options['max-tokens'] });
      const reply = await ended;
      ctx.stdout('\n');

      if (reply.status === 'error') {
        printError(ctx, reply.error?.code ?? 'INTERNAL', reply.error?.message ?? 'The reply failed.');
        return 1;
      }
      if (reply.status === 'stopped') return INTERRUPTED;
      if (reply.status === 'length') ctx.stderr('(The reply reached its token limit; --max-tokens allows a longer one.)\n');
      return 0;
    } finally {
      unsubscribeStream();
      unsubscribeSignal();
      await core.dispose();
    }
  },
});
