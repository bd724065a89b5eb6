import { request } from 'node:http';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../support/apiServer';

/** The official `openai` client against Hearth's local API (real server, real stories260K). */
describe('local API: OpenAI-compatible endpoints with the official client', () => {
  let api: ApiServer;
  let client: OpenAI;

  beforeAll(async () => {
    api = await startApiServer({ full: ['chat', 'embeddings'], embedOnly: ['embeddings'] });
    client = api.openai();
  }, 60_000);
  afterAll(() => api?.close());

  it('lists the library models with the default marked, and one model by id or name', async () => {
    const page = await client.models.list();
    const listed = page.data.find((m) => m.id === api.model.name)!;
    expect(listed).toMatchObject({ object: 'model', owned_by: 'hearth' });
    expect((listed as unknown as { hearth: { id: string; default_for: string[] } }).hearth).toMatchObject({ id: api.model.id, default_for: ['chat', 'embedding'] });
    expect((await client.models.retrieve(api.model.id)).id).toBe(api.model.name);
    await expect(client.models.retrieve('no-such-model')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers a chat completion with usage, by model name, and loads the model on first use', async () => {
    const reply = await client.chat.completions.create({
      model: api.model.name,
      messages: [
        { role: 'system', content: 'You tell stories.' },
        { role: 'user', content: 'Once upon a time' },
      ],
      max_tokens: 12,
      temperature: 0,
    });
    expect(reply.object).toBe('chat.completion');
    expect(reply.model).toBe(api.model.name);
    const choice = reply.choices[0]!;
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content!.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(choice.finish_reason);
    expect(reply.usage!.completion_tokens).toBeGreaterThan(0);
    expect(reply.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(reply.usage!.total_tokens).toBe(reply.usage!.prompt_tokens + reply.usage!.completion_tokens);
    expect(api.core.runtime.loaded?.info.modelId).toBe(api.model.id);

    // Greedy with the same input: the same text, whether streamed or not.
    const stream = await client.chat.completions.create({
      model: api.model.id,
      messages: [
        { role: 'system', content: 'You tell stories.' },
        { role: 'user', content: 'Once upon a time' },
      ],
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(choice.message.content);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish).toHaveLength(1);
    expect(finish[0]!.choices[0]!.finish_reason).toBe(choice.finish_reason);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(reply.usage);
  });

  it('stops at a stop sequence', async () => {
    const free = await client.chat.completions.create({ model: api.model.name, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 24, temperature: 0 });
    const text = free.choices[0]!.message.content!;
    const word = text.trim().split(/\s+/)[1]!;
    const stopped = await client.chat.completions.create({ model: api.model.name, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 24, temperature: 0, stop: [word] });
    expect(stopped.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(word)));
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
  });

  it('enforces response_format json_schema and json_object with a grammar', async () => {
    const schema = {
      type: 'object',
      properties: { mood: { enum: ['happy', 'sad'] }, sunny: { type: 'boolean' } },
      required: ['mood', 'sunny'],
      additionalProperties: false,
    };
    const reply = await client.chat.completions.create({
      model: api.model.name,
      messages: [{ role: 'user', content: 'How is the day?' }],
      max_tokens: 40,
      response_format: { type: 'json_schema', json_schema: { name: 'day', schema, strict: true } },
    });
    const value = JSON.parse(reply.choices[0]!.message.content!) as { mood: string; sunny: boolean };
    expect(['happy', 'sad']).toContain(value.mood);
    expect(typeof value.sunny).toBe('boolean');
    expect(Object.keys(value).sort()).toEqual(['mood', 'sunny']);

    const object = await client.chat.completions.create({
      model: api.model.name,
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      max_tokens: 60,
      response_format: { type: 'json_object' },
    });
    const text = object.choices[0]!.message.content!.trim();
    expect(text.startsWith('{')).toBe(true);
    if (object.choices[0]!.finish_reason === 'stop') expect(typeof JSON.parse(text)).toBe('object');
  });

  it('calls a tool when tool_choice requires it, streams the call as deltas, and reads tool results back', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city',
          parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] } }, required: ['city'], additionalProperties: false },
        },
      },
    ];
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const reply = await client.chat.completions.create({ model: api.model.name, messages, tools, tool_choice: 'required', max_tokens: 30 });
    const choice = reply.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(call.id).toMatch(/^call_/);
    expect(['Paris', 'Oslo']).toContain((JSON.parse(call.function.arguments) as { city: string }).city);

    const stream = await client.chat.completions.create({
      model: api.model.name,
      messages,
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 30,
      stream: true,
    });
    let args = '';
    let name = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(delta.index).toBe(0);
        name += delta.function?.name ?? '';
        args += delta.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(finish).toBe('tool_calls');
    expect(['Paris', 'Oslo']).toContain((JSON.parse(args) as { city: string }).city);

    // The tool's result goes back in; the model answers (tools still offered, its choice).
    const answer = await client.chat.completions.create({
      model: api.model.name,
      messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' }],
      tools,
      max_tokens: 10,
    });
    expect(['stop', 'length', 'tool_calls']).toContain(answer.choices[0]!.finish_reason);
    await expect(
      client.chat.completions.create({ model: api.model.name, messages: [...messages, { role: 'tool', tool_call_id: 'call_unknown', content: 'x' }], max_tokens: 5 }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('embeds a string or an array, as floats or base64, with the embedding model', async () => {
    const one = await client.embeddings.create({ model: api.model.name, input: 'a happy dog', encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    const vector = one.data[0]!.embedding;
    expect(vector.length).toBeGreaterThan(0);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 3);
    expect(one.usage.prompt_tokens).toBeGreaterThan(0);

    // Without encoding_format the client asks for base64 and decodes it: the same vector. An
    // empty model is the default embedding model.
    const many = await api.openai('embedOnly').embeddings.create({ model: '', input: ['a happy dog', 'a sad cat'] });
    expect(many.data.map((d) => d.index)).toEqual([0, 1]);
    expect(many.data[0]!.embedding).toHaveLength(vector.length);
    many.data[0]!.embedding.forEach((x, i) => expect(x).toBeCloseTo(vector[i]!, 5));
    expect(many.data[1]!.embedding).not.toEqual(many.data[0]!.embedding);
    const base64 = await client.embeddings.create({ model: api.model.id, input: 'a happy dog', encoding_format: 'base64' });
    const bytes = Buffer.from(base64.data[0]!.embedding as unknown as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(vector.map((x) => Math.fround(x)));
    await expect(client.embeddings.create({ model: api.model.id, input: [] })).rejects.toMatchObject({ status: 400 });
    await expect(client.embeddings.create({ model: api.model.id, input: [[1, 2, 3]] })).rejects.toMatchObject({ status: 400, code: 'unsupported_parameter' });
  });

  it('refuses what it does not support, clearly, in OpenAI error JSON', async () => {
    const base = { model: api.model.name, messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 5 };
    await expect(client.chat.completions.create({ ...base, n: 2 })).rejects.toMatchObject({ status: 400, param: 'n', code: 'unsupported_parameter' });
    await expect(client.chat.completions.create({ ...base, logprobs: true })).rejects.toMatchObject({ status: 400, param: 'logprobs' });
    await expect(
      client.chat.completions.create({ ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] }),
    ).rejects.toMatchObject({ status: 400, param: 'messages[0].content[0]', message: expect.stringMatching(/Images are not supported/) });
    await expect(client.chat.completions.create({ ...base, model: 'nope' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.chat.completions.create({ ...base, temperature: 3 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(client.chat.completions.create({ ...base, messages: [{ role: 'user', content: 'x'.repeat(40_000) }] })).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
    await expect(api.openai('wrong').models.list()).rejects.toMatchObject({ status: 401 });
    await expect(api.openai('embedOnly').chat.completions.create(base)).rejects.toMatchObject({ status: 403 });
    const notJson = await fetch(`${api.baseUrl}/v1/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${api.tokens.full!}` }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const unknown = await fetch(`${api.baseUrl}/v1/completions`, { method: 'POST', headers: { Authorization: `Bearer ${api.tokens.full!}` }, body: '{}' });
    expect(unknown.status).toBe(404);
    // The API keeps the Host check of the UI's server (DNS rebinding).
    const forged = await new Promise<number>((resolve, reject) =>
      request({ host: '127.0.0.1', port: api.server.port, path: '/v1/models', headers: { Authorization: `Bearer ${api.tokens.full!}`, Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(forged).toBe(403);
  });
});
