import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { callNames, type CallName } from '#contract/api';
import type { WireMessage } from '#contract/client';
import { isErrorCode, type Result } from '#contract/errors';
import { startServer, type HearthServer } from '../../src-main/cli/server';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';

/**
 * Property-based fuzzing of the WebSocket contract: batches of generated frames, valid calls
 * and every kind of malformed one, each of which must be answered exactly once with a result
 * or a coded error, with the server still answering a cheap call after every batch.
 */

/** One frame to send, and the id its answer must carry (null: the server cannot read one). */
interface Frame {
  data: string | Buffer;
  id: number | null;
  kind: string;
}

/** Calls with no side effect worth the name (or none outside the temporary data directory), and their inputs. */
const anyId = fc.string({ minLength: 1, maxLength: 64 });
const title = fc.string({ maxLength: 200 });
const noInput: CallName[] = [
  'app.info', 'settings.get', 'models.list', 'runtime.state', 'threads.list', 'jobs.list', 'catalog.list',
  'hardware.info', 'collections.list', 'index.status', 'vault.status', 'vault.snapshots', 'vault.targets',
];
const validCall: fc.Arbitrary<{ name: CallName; input: unknown }> = fc.oneof(
  fc.constantFrom(...noInput).map((name) => ({ name, input: {} })),
  fc.record({ threadId: anyId }).map((input) => ({ name: 'threads.get' as const, input })),
  fc.record({ threadId: anyId, title: fc.string({ minLength: 1, maxLength: 200 }) }).map((input) => ({ name: 'threads.update' as const, input })),
  fc.record({ title, systemPrompt: fc.string({ maxLength: 2000 }) }, { requiredKeys: [] }).map((input) => ({ name: 'threads.create' as const, input })),
  fc.record({ jobId: anyId }).map((input) => ({ name: 'jobs.cancel' as const, input })),
  fc.record({ jobId: anyId }).map((input) => ({ name: 'jobs.pause' as const, input })),
  fc.record({ chunkId: fc.string({ minLength: 1, maxLength: 200 }) }).map((input) => ({ name: 'documents.chunk' as const, input })),
  fc.record({ collectionId: anyId, sourceId: anyId }, { requiredKeys: [] }).map((input) => ({ name: 'documents.list' as const, input })),
  fc.record({ collectionId: anyId }, { requiredKeys: [] }).map((input) => ({ name: 'sources.list' as const, input })),
  fc.record({ collectionId: anyId, name: fc.string({ minLength: 1, maxLength: 100 }) }).map((input) => ({ name: 'collections.rename' as const, input })),
  fc.record({ modelId: anyId, gpuLayers: fc.option(fc.integer({ min: 0, max: 1000 })) }).map((input) => ({ name: 'models.setGpuLayers' as const, input })),
  fc.record({ source: fc.record({ kind: fc.constant('local'), modelId: anyId }) }).map((input) => ({ name: 'models.fit' as const, input })),
  fc.record({ passphrase: fc.string({ minLength: 8, maxLength: 100 }) }).map((input) => ({ name: 'vault.unlock' as const, input })),
);

/** Calls that reach the network, start long jobs or change more than a row: only ever given inputs that cannot validate. */
const heavy = new Set<string>([
  'vault.restore', 'vault.snapshot', 'vault.publish', 'vault.addTarget', 'vault.create', 'vault.import', 'models.pull',
  'hub.search', 'hub.files', 'hub.setToken', 'index.rescan', 'settings.update', 'sources.add', 'models.import', 'models.add',
  'runtime.load', 'chat.send', 'chat.regenerate', 'chat.edit',
]);
const lightNames = callNames.filter((name) => !heavy.has(name));
/** Never a valid input for any call: every input schema is an object. */
const notAnObject = fc.oneof(fc.integer(), fc.string({ maxLength: 50 }), fc.boolean(), fc.array(fc.anything(), { maxLength: 5 }));
const badId = fc.oneof(
  fc.double({ noInteger: true }),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 60, -(2 ** 60), 1e300),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const pollution = [
  '{"__proto__":{"polluted":true},"title":"x"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"title":"x","__proto__":{"toString":"polluted","polluted":true}}',
];

/** Counterexamples print a frame's kind and its first 200 characters, not megabytes. */
function shown(frame: Frame): Frame {
  const head = typeof frame.data === 'string' ? frame.data.slice(0, 200) : frame.data.subarray(0, 200).toString('hex');
  return Object.assign(frame, { [fc.toStringMethod]: () => `${frame.kind} (${frame.data.length}): ${JSON.stringify(head)}` });
}

function frames(nextId: () => number): fc.Arbitrary<Frame> {
  const call = (id: number, name: unknown, input: unknown) => JSON.stringify({ t: 'call', id, name, input });
  const anyFrame = fc.oneof(
    { weight: 4, arbitrary: validCall.map(({ name, input }) => { const id = nextId(); return { data: call(id, name, input), id, kind: `valid ${name}` }; }) },
    { weight: 2, arbitrary: fc.record({ name: fc.constantFrom(...lightNames), input: fc.anything() }).map(({ name, input }) => { const id = nextId(); return { data: call(id, name, input), id, kind: `any input ${name}` }; }) },
    { weight: 2, arbitrary: fc.record({ name: fc.constantFrom(...callNames), input: notAnObject }).map(({ name, input }) => { const id = nextId(); return { data: call(id, name, input), id, kind: `wrong type ${name}` }; }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).filter((name) => !(callNames as readonly string[]).includes(name)).map((name) => { const id = nextId(); return { data: call(id, name, {}), id, kind: 'unknown name' }; }) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(undefined), fc.anything()).map((name) => { const id = nextId(); return { data: JSON.stringify({ t: 'call', id, name }), id, kind: 'no or odd name' }; }) },
    { weight: 1, arbitrary: fc.record({ t: fc.oneof(fc.constant('event'), fc.constant(undefined), fc.anything()) }).map(({ t }) => { const id = nextId(); return { data: JSON.stringify({ t, id, name: 'app.info', input: {} }), id, kind: 'wrong t' }; }) },
    { weight: 2, arbitrary: fc.tuple(badId, fc.boolean()).map(([id, present]) => ({ data: JSON.stringify(present ? { t: 'call', id, name: 'app.info', input: {} } : { t: 'call', name: 'app.info', input: {} }), id: null, kind: 'bad id' })) },
    // Up to 1.5 MB once encoded: under the 2 MiB frame limit (a larger frame closes the connection; tested below).
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 10_000, max: 1_500_000 }), fc.constantFrom('x', 'é', '\\"', '\u{1F525}'), fc.boolean()).map(([bytes, unit, inName]) => {
      const id = nextId();
      const huge = unit.repeat(Math.ceil(bytes / Buffer.byteLength(JSON.stringify(unit).slice(1, -1))));
      return { data: inName ? call(id, huge, {}) : call(id, 'threads.get', { threadId: huge }), id, kind: 'huge string' };
    }) },
    { weight: 1, arbitrary: fc.constantFrom(...pollution).map((input) => { const id = nextId(); return { data: `{"t":"call","id":${id},"name":"threads.create","input":${input}}`, id, kind: 'prototype pollution' }; }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 33, max: 200_000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
      const id = nextId();
      const close = open === '[' ? ']' : '}';
      return { data: `{"t":"call","id":${id},"name":"app.info","input":${open.repeat(depth)}${open === '[' ? '' : '1'}${close.repeat(depth)}}`, id, kind: 'deep nesting' };
    }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }).filter((text) => { try { JSON.parse(text); return false; } catch { return true; } }).map((text) => ({ data: text, id: null, kind: 'not JSON' })) },
    { weight: 1, arbitrary: fc.oneof(fc.constant('null'), fc.constant('[]'), fc.constant('"call"'), fc.integer().map(String)).map((text) => ({ data: text, id: null, kind: 'JSON, not an object' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ data: Buffer.from(bytes), id: null, kind: 'binary' })) },
  );
  return anyFrame.map(shown);
}

describe('WebSocket contract fuzzing', () => {
  let server: HearthServer;
  let cleanupCore: () => Promise<void>;
  const dir = tempDir('hearth-wsfuzz-');
  let ws: WebSocket;
  const answers: { id: number | null; result: Result<unknown> }[] = [];
  let wake: () => void = () => undefined;

  beforeAll(async () => {
    const test = createTestCore();
    cleanupCore = test.cleanup;
    server = await startServer(test.core, { port: 0, rendererDir: dir.path });
    ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as WireMessage;
      if (message.t === 'result') answers.push({ id: message.id, result: message.result });
      wake();
    });
  });

  afterAll(async () => {
    ws?.terminate();
    await server?.close();
    await cleanupCore?.();
    dir.cleanup();
  });

  const answersUntil = (count: number, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${answers.length} of ${count} frames answered in ${timeoutMs} ms`)), timeoutMs);
      wake = () => {
        if (answers.length < count) return;
        clearTimeout(timer);
        resolve();
      };
      wake();
    });

  it('answers every frame exactly once, with a result or a coded error, and stays responsive', async () => {
    let id = 1_000_000;
    const nextId = () => ++id;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(frames(nextId), { minLength: 1, maxLength: 12 }), async (batch) => {
        answers.length = 0;
        for (const frame of batch) {
          seen.add(frame.kind.split(' ')[0]!);
          ws.send(frame.data);
        }
        // Then a cheap call, answered after the batch: the server is still responsive.
        const probe = nextId();
        ws.send(JSON.stringify({ t: 'call', id: probe, name: 'app.info', input: {} }));
        await answersUntil(batch.length + 1, 10_000);
        expect(answers).toHaveLength(batch.length + 1);
        for (const { result } of answers) {
          if (!result.ok) expect(isErrorCode(result.error.code), JSON.stringify(result.error)).toBe(true);
        }
        const ids = new Set(answers.map((answer) => answer.id));
        for (const frame of batch) if (frame.id !== null) expect(ids.has(frame.id), frame.kind).toBe(true);
        expect(answers.find((answer) => answer.id === probe)?.result.ok).toBe(true);
        expect(ws.readyState).toBe(WebSocket.OPEN);
        expect((({}) as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false },
    );
    // The generator reached every kind of frame within the budget.
    expect([...seen].sort()).toEqual(expect.arrayContaining(['valid', 'wrong', 'bad', 'huge', 'deep', 'binary']));
  }, 60_000);

  it('closes a connection that sends a frame over the 2 MiB limit and keeps serving the others', async () => {
    const other = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    const closed = new Promise<number>((resolve) => other.once('close', (code) => resolve(code)));
    other.once('open', () => other.send(`{"t":"call","id":1,"name":"app.info","input":{"s":"${'x'.repeat(2 * 1024 * 1024)}"}}`));
    other.on('error', () => undefined);
    expect(await closed).toBe(1009);
    answers.length = 0;
    ws.send(JSON.stringify({ t: 'call', id: 42, name: 'app.info', input: {} }));
    await answersUntil(1, 5_000);
    expect(answers[0]).toMatchObject({ id: 42, result: { ok: true } });
  }, 30_000);
});
