import { describe, expect, it } from 'vitest';
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
});
