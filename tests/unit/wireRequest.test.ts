import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src-main/cli/jsonDepth';
import { parseWireRequest } from '../../src-main/cli/wireRequest';

describe('parseWireRequest', () => {
  it('reads a call', () => {
    expect(parseWireRequest('{"t":"call","id":3,"name":"app.info","input":{}}')).toEqual({
      ok: true,
      request: { t: 'call', id: 3, name: 'app.info', input: {} },
    });
  });

  it('keeps the id of a malformed call so it can be answered', () => {
    expect(parseWireRequest('{"t":"call","id":4}')).toMatchObject({ ok: false, id: 4 });
    expect(parseWireRequest('{"t":"event","id":5,"name":"x"}')).toMatchObject({ ok: false, id: 5 });
    expect(parseWireRequest('{"id": 6, "t": "call", "name": ')).toMatchObject({ ok: false, id: 6 });
  });

  it('gives up on messages without a usable id', () => {
    for (const text of ['', 'nope', '[]', 'null', '42', '{"t":"call","name":"app.info"}', '{"id":"7"}', '{"id":1.5}', '{"a":{"id":8}']) {
      expect(parseWireRequest(text), text).toMatchObject({ ok: false, id: null });
    }
  });

  it('refuses a frame nested too deeply before parsing it, keeping its leading id', () => {
    const deep = `{"t":"call","id":9,"name":"app.info","input":${'['.repeat(100)}${']'.repeat(100)}}`;
    expect(parseWireRequest(deep)).toEqual({ ok: false, id: 9, message: 'The message nests deeper than 32 levels.' });
  });
});

describe('nestsDeeperThan', () => {
  it('counts brackets outside strings only', () => {
    expect(nestsDeeperThan('[[[]]]', 3)).toBe(false);
    expect(nestsDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[{}]}}', 3)).toBe(true);
    expect(nestsDeeperThan(`{"s":"${'[{'.repeat(50)}"}`, 2)).toBe(false);
    expect(nestsDeeperThan(String.raw`{"s":"\\\"[[[[["}`, 1)).toBe(false);
    expect(nestsDeeperThan(String.raw`{"s":"\\"}[[[[`, 3)).toBe(true);
    expect(nestsDeeperThan('[]'.repeat(1000), 1)).toBe(false);
  });
});
