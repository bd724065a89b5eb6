import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callNames, calls, eventNames } from '#contract/api';
import { ERROR_CODES } from '#contract/errors';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { Core } from '../../src-main/core/createCore';
import { createDispatcher, type Dispatch } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { createTestCore } from '../support/testCore';

/** The dispatcher is the gate for untrusted callers: every input is validated against the contract. */
describe('contract dispatcher', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let dispatch: Dispatch;

  beforeAll(() => {
    ({ core, cleanup } = createTestCore());
    dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
  });
  afterAll(() => cleanup());

  it('has a handler for every call in the contract, and a schema for every input', () => {
    const handlers = createHandlers(core);
    expect(Object.keys(handlers).sort()).toEqual([...callNames].sort());
    for (const name of callNames) expect(calls[name].input.safeParse).toBeTypeOf('function');
    expect(eventNames).toEqual(expect.arrayContaining(['chat.stream', 'runtime.state', 'jobs.update']));
  });

  it('refuses names that are not in the contract', async () => {
    for (const name of ['nope', '__proto__', 'constructor', 'toString', 42, null]) {
      const result = await dispatch(name, {});
      expect(result).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
  });

  it('refuses inputs of the wrong shape, naming the field', async () => {
    expect(await dispatch('threads.get', {})).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('threadId') } });
    expect(await dispatch('threads.get', { threadId: 5 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('threads.get', 'thr_1')).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('threads.get', { threadId: 'x', extra: true })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('settings.update', { temperature: 99 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('chat.send', { threadId: 'x', content: '' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });

  it('takes only http(s) URLs for the hub endpoint', async () => {
    for (const hubEndpoint of ['javascript:alert(1)', 'file:///etc/passwd', 'ftp://mirror.example/', 'data:text/html,hi']) {
      const result = await dispatch('settings.update', { hubEndpoint });
      expect(result, hubEndpoint).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('hubEndpoint') } });
    }
    expect(await dispatch('settings.get', {})).toMatchObject({ ok: true, value: { hubEndpoint: 'https://huggingface.co' } });
    for (const hubEndpoint of ['http://127.0.0.1:8080', 'https://hf-mirror.example/']) {
      expect(await dispatch('settings.update', { hubEndpoint }), hubEndpoint).toMatchObject({ ok: true, value: { hubEndpoint } });
    }
    await dispatch('settings.update', { hubEndpoint: 'https://huggingface.co' });
  });

  it('returns results as data and core errors with their codes', async () => {
    const created = await dispatch('threads.create', { title: 'Hello' });
    expect(created).toMatchObject({ ok: true, value: { title: 'Hello', messages: [] } });
    expect(await dispatch('threads.get', { threadId: 'thr_missing' })).toEqual({
      ok: false,
      error: { code: 'THREAD_NOT_FOUND', message: expect.any(String) },
    });
    expect(await dispatch('app.info', {})).toMatchObject({ ok: true, value: { host: 'server', canPickFiles: false } });
    expect(await dispatch('models.pickFile', {})).toEqual({ ok: true, value: null });
  });

  it('every error code that crosses the boundary is one the contract lists', async () => {
    const results = await Promise.all([
      dispatch('chat.send', { threadId: 'thr_missing', content: 'hi' }),
      dispatch('jobs.cancel', { jobId: 'job_missing' }),
      dispatch('models.remove', { modelId: 'mdl_missing' }),
      dispatch('runtime.load', { modelId: 'mdl_missing' }),
    ]);
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(ERROR_CODES).toContain(result.error.code);
    }
    expect(results.map((r) => (r.ok ? null : r.error.code))).toEqual(['THREAD_NOT_FOUND', 'JOB_NOT_FOUND', 'MODEL_NOT_FOUND', 'MODEL_NOT_FOUND']);
  });
});
