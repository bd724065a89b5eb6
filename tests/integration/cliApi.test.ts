import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTokenCreated, ModelInfo } from '#contract/dto';
import { runHearth, startServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

/**
 * The local API of the built `hearth serve`, with a token made by `hearth tokens create`, through
 * the official openai and @anthropic-ai/sdk clients; revoking the token shuts it out at once.
 */
describe('hearth serve: the local API with a CLI-made token', () => {
  const data = tempDir('hearth-cli-api-');
  const cli = (args: string[]) => runHearth([...args, '--data-dir', data.path, '--gpu', 'off', '--threads', '1']);
  let serve: ServeRun;
  let model: ModelInfo;
  let token: ApiTokenCreated;
  let base: string;

  beforeAll(async () => {
    const added = await cli(['models', 'add', await testModelPath('stories260K'), '--json']);
    expect(added.code, added.stderr).toBe(0);
    model = JSON.parse(added.stdout) as ModelInfo;
    expect((await cli(['models', 'default', model.id, '--for', 'embedding'])).code).toBe(0);
    const created = await cli(['tokens', 'create', 'editor', '--scope', 'chat', '--scope', 'embeddings', '--json']);
    expect(created.code, created.stderr).toBe(0);
    token = JSON.parse(created.stdout) as ApiTokenCreated;
    serve = await startServe(['--data-dir', data.path, '--gpu', 'off', '--threads', '1', '--renderer-dir', data.path]);
    base = new URL(serve.url).origin;
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
    data.cleanup();
  });

  it('serves models, streamed chat completions, embeddings and Anthropic messages; a revoked token gets 401', async () => {
    const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: token.secret, maxRetries: 0 });
    expect((await openai.models.list()).data.map((m) => m.id)).toContain(model.name);

    const stream = await openai.chat.completions.create({
      model: model.name,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBeGreaterThan(0);

    const embedded = await openai.embeddings.create({ model: model.name, input: ['a dog', 'a cat'] });
    expect(embedded.data).toHaveLength(2);

    const anthropic = new Anthropic({ baseURL: base, apiKey: token.secret, maxRetries: 0 });
    const message = await anthropic.messages.create({ model: model.name, max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] });
    expect(message.content[0]!.type).toBe('text');
    const events: string[] = [];
    for await (const event of anthropic.messages.stream({ model: model.name, max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] })) events.push(event.type);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');

    // The UI's session (the one-time URL's cookie) is no API token.
    const signIn = await fetch(serve.url, { redirect: 'manual' });
    const session = signIn.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;
    await expect(new OpenAI({ baseURL: `${base}/v1`, apiKey: session, maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });

    expect((await cli(['tokens', 'revoke', token.token.id])).code).toBe(0);
    await expect(openai.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key', message: expect.stringMatching(/revoked/) });
  });
});
