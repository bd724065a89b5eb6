import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { CompletionService } from '../../core/inference/completionService';
import type { CompletionResult, ToolCall } from '../../core/inference/completionTypes';
import { anthropicErrorBody, apiError } from './apiErrors';
import type { AnthropicRequest } from './anthropicRequest';
import { sendJson } from './sse';
import { SseStream } from './sseStream';

type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

function stopReason(result: CompletionResult): StopReason {
  if (result.finishReason === 'length') return 'max_tokens';
  if (result.finishReason === 'tool_calls') return 'tool_use';
  return result.stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

function inputOf(call: ToolCall): unknown {
  try {
    return JSON.parse(call.arguments) as unknown;
  } catch {
    return {};
  }
}

/**
 * POST /v1/messages: Anthropic's Messages API, answered whole or streamed as its events
 * (message_start, content_block_start/delta/stop for text and tool_use blocks, message_delta
 * with the stop reason and usage, message_stop).
 */
export async function anthropicMessages(
  completions: CompletionService,
  request: AnthropicRequest,
  res: ServerResponse,
  context: { lane: string; signal: AbortSignal },
): Promise<void> {
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  if (!request.stream) {
    const result = await completions.complete(request.completion, context);
    if (result.aborted) return;
    const content = [
      ...(result.text || result.toolCalls.length === 0 ? [{ type: 'text', text: result.text }] : []),
      ...result.toolCalls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: inputOf(call) })),
    ];
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: result.model,
      content,
      stop_reason: stopReason(result),
      stop_sequence: result.stopSequence,
      usage: { input_tokens: result.usage.promptTokens, output_tokens: result.usage.completionTokens },
    });
    return;
  }

  const sse = new SseStream(res);
  const event = (type: string, data: Record<string, unknown>) => sse.send({ type, ...data }, type);
  // One block is open at a time: text, then each tool call in turn.
  let blocks = 0;
  let open: 'text' | 'tool' | null = null;
  const close = () => {
    if (open === null) return;
    event('content_block_stop', { index: blocks - 1 });
    open = null;
  };
  const openText = () => {
    if (open === 'text') return;
    close();
    event('content_block_start', { index: blocks++, content_block: { type: 'text', text: '' } });
    open = 'text';
  };
  let result: CompletionResult;
  try {
    result = await completions.complete(request.completion, {
      ...context,
      listener: {
        onStart: (start) =>
          sse.announce({
            type: 'message_start',
            message: {
              id,
              type: 'message',
              role: 'assistant',
              model: start.model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: start.promptTokens, output_tokens: 0 },
            },
          }, 'message_start'),
        onText: (text) => {
          openText();
          event('content_block_delta', { index: blocks - 1, delta: { type: 'text_delta', text } });
        },
        onToolCall: (_index, call) => {
          close();
          event('content_block_start', { index: blocks++, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } });
          open = 'tool';
        },
        onToolArguments: (_index, text) => event('content_block_delta', { index: blocks - 1, delta: { type: 'input_json_delta', partial_json: text } }),
      },
    });
  } catch (error) {
    if (!sse.started) throw error;
    sse.send(anthropicErrorBody(apiError(error)), 'error');
    sse.end();
    return;
  }
  if (result.aborted) return sse.end();
  if (blocks === 0) openText();
  close();
  event('message_delta', {
    delta: { stop_reason: stopReason(result), stop_sequence: result.stopSequence },
    usage: { output_tokens: result.usage.completionTokens },
  });
  event('message_stop', {});
  sse.end();
}
