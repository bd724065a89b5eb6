import type { Message } from '#contract/dto';
import type { CliContext } from './cliContext';
import { commandArgs, coreOptions, parseInteger } from './commandArgs';
import { backendLine } from './format';
import { helpText } from './helpText';
import { openCore } from './openCore';
import { UsageError } from './usageError';

/** Exit code of a reply the user interrupted (128 + SIGINT, as shells report it). */
const INTERRUPTED = 130;

/**
 * `hearth chat --model PATH QUESTION`: one question, the answer streamed to stdout. Uses
 * the same library, runtime and chat service as the app, so the chat is saved there too.
 */
export async function chatCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs('chat', args, {
    ...coreOptions,
    model: { type: 'string', short: 'm' },
    system: { type: 'string' },
    'max-tokens': { type: 'string' },
    context: { type: 'string' },
  });
  if (values.help) {
    ctx.stdout(`${helpText.chat}\n`);
    return 0;
  }
  const question = positionals.join(' ').trim();
  if (!values.model) throw new UsageError('--model PATH is required', 'chat');
  if (!question) throw new UsageError('Ask a question, e.g. hearth chat --model model.gguf "What is a GGUF file?"', 'chat');
  const maxReplyTokens = parseInteger(values['max-tokens'], '--max-tokens', 'chat', { min: 1, max: 131_072 });
  const contextSize = parseInteger(values.context, '--context', 'chat', { min: 64, max: 1_048_576 });

  const core = openCore('chat', values, ctx, 'warn');
  let threadId: string | null = null;
  let interrupted = false;
  const unsubscribeSignal = ctx.onSignal(() => {
    interrupted = true;
    if (threadId) void core.chat.stop(threadId);
  });
  let unsubscribeStream: () => void = () => undefined;
  try {
    ctx.stderr(`${backendLine(await core.runtime.backendInfo())}\n`);
    const model = await core.models.add(values.model);
    if (interrupted) return INTERRUPTED;
    const loaded = await core.runtime.load(core.models.get(model.id), {
      contextSize: contextSize ?? core.settings.get().contextSize,
    });
    ctx.stderr(`Model: ${loaded.name} (context ${loaded.contextSize} tokens, ${loaded.chatTemplate})\n`);
    if (interrupted) return INTERRUPTED;

    const thread = core.chat.createThread(undefined, values.system);
    threadId = thread.id;
    // Subscribe before sending; the thread is new, so every event for it is this reply's.
    const ended = new Promise<Message>((done) => {
      unsubscribeStream = core.events.on('chat.stream', (event) => {
        if (event.threadId !== thread.id) return;
        if (event.type === 'token') ctx.stdout(event.text);
        else if (event.type === 'end') done(event.message);
      });
    });
    await core.chat.send(thread.id, question, { maxReplyTokens });
    const reply = await ended;
    ctx.stdout('\n');

    if (reply.status === 'error') {
      ctx.stderr(`error ${reply.error?.code ?? 'INTERNAL'}: ${reply.error?.message ?? 'The reply failed.'}\n`);
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
}
