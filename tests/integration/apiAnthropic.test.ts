import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../support/apiServer';

/** The official `@anthropic-ai/sdk` client against Hearth's /v1/messages (real server, real stories260K). */
describe('local API: Anthropic-compatible messages with the official client', () => {
  let api: ApiServer;
  let client: Anthropic;

  beforeAll(async () => {
    api = await startApiServer({ full: ['chat'], embedOnly: ['embeddings'] });
    client = api.anthropic();
    // The installed client has no temperature parameter: requests without one use Hearth's setting; greedy here.
    api.core.settings.update({ temperature: 0 });
  }, 60_000);
  afterAll(() => api?.close());

  const question = { role: 'user' as const, content: 'Once upon a time' };

  it('answers a message with a system prompt, and streams the same answer as events', async () => {
    const message = await client.messages.create({ model: api.model.name, system: 'You tell stories.', max_tokens: 12, messages: [question] });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: api.model.name, stop_sequence: null });
    expect(message.id).toMatch(/^msg_/);
    expect(['end_turn', 'max_tokens']).toContain(message.stop_reason);
    const block = message.content[0]!;
    expect(block.type).toBe('text');
    const text = (block as Anthropic.TextBlock).text;
    expect(text.length).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeLessThanOrEqual(12);

    const stream = client.messages.stream({ model: api.model.name, system: 'You tell stories.', max_tokens: 12, messages: [question] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types.at(-2)).toBe('message_delta');
    expect(types).toContain('content_block_start');
    expect(types).toContain('content_block_delta');
    expect(types).toContain('content_block_stop');
    expect(final.content).toEqual(message.content);
    expect(final.stop_reason).toBe(message.stop_reason);
    expect(final.usage.output_tokens).toBe(message.usage.output_tokens);
  });

  it('stops at a stop sequence and says which', async () => {
    const free = await client.messages.create({ model: api.model.name, max_tokens: 24, messages: [question] });
    const text = (free.content[0] as Anthropic.TextBlock).text;
    const word = text.trim().split(/\s+/)[1]!;
    const stopped = await client.messages.create({ model: api.model.name, max_tokens: 24, messages: [question], stop_sequences: [word] });
    expect(stopped.stop_reason).toBe('stop_sequence');
    expect(stopped.stop_sequence).toBe(word);
    expect((stopped.content[0] as Anthropic.TextBlock).text).toBe(text.slice(0, text.indexOf(word)));
  });

  it('uses a tool when tool_choice asks, streams its input as JSON deltas, and reads the tool result back', async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] } }, required: ['city'] },
      },
    ];
    const asked = { model: api.model.name, max_tokens: 30, tools, messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }] };
    const message = await client.messages.create({ ...asked, tool_choice: { type: 'tool', name: 'get_weather' } });
    expect(message.stop_reason).toBe('tool_use');
    const use = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use.name).toBe('get_weather');
    expect(['Paris', 'Oslo']).toContain((use.input as { city: string }).city);

    const stream = client.messages.stream({ ...asked, tool_choice: { type: 'any' } });
    const final = await stream.finalMessage();
    const streamed = final.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(streamed.name).toBe('get_weather');
    expect(['Paris', 'Oslo']).toContain((streamed.input as { city: string }).city);

    const answer = await client.messages.create({
      ...asked,
      max_tokens: 8,
      messages: [
        ...asked.messages,
        { role: 'assistant', content: message.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21 degrees' }] },
      ],
    });
    expect(['end_turn', 'max_tokens', 'tool_use']).toContain(answer.stop_reason);
  });

  it('refuses what it cannot do in Anthropic error JSON: images, missing max_tokens, bad tokens and scopes', async () => {
    await expect(
      client.messages.create({
        model: api.model.name,
        max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] }],
      }),
    ).rejects.toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/Images are not supported/) } } });
    const missing = await fetch(`${api.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': api.tokens.full!, 'content-type': 'application/json' },
      body: JSON.stringify({ model: api.model.name, messages: [question] }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens is required.' } });
    await expect(api.anthropic('wrong').messages.create({ model: api.model.name, max_tokens: 5, messages: [question] })).rejects.toMatchObject({
      status: 401,
      error: { error: { type: 'authentication_error' } },
    });
    await expect(api.anthropic('embedOnly').messages.create({ model: api.model.name, max_tokens: 5, messages: [question] })).rejects.toMatchObject({
      status: 403,
      error: { error: { type: 'permission_error' } },
    });
    await expect(client.messages.create({ model: 'nope', max_tokens: 5, messages: [question] })).rejects.toMatchObject({
      status: 404,
      error: { error: { type: 'not_found_error' } },
    });
  });
});
