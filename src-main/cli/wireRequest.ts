import type { WireRequest } from '#contract/client';
import { nestsDeeperThan } from './jsonDepth';
import { MAX_JSON_DEPTH } from './serverLimits';

export type ParsedWireRequest = { ok: true; request: WireRequest } | { ok: false; id: number | null; message: string };

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/**
 * Reads one WebSocket message as a contract call. A malformed one still yields its id when
 * one can be read, so the client gets a BAD_INPUT answer instead of waiting forever.
 */
export function parseWireRequest(text: string): ParsedWireRequest {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return { ok: false, id: leadingId(text), message: `The message nests deeper than ${MAX_JSON_DEPTH} levels.` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, id: leadingId(text), message: 'The message is not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, message: 'The message must be a JSON object.' };
  }
  const { t, id, name, input } = value as Record<string, unknown>;
  if (!isId(id)) return { ok: false, id: null, message: 'The message has no numeric id.' };
  if (t !== 'call') return { ok: false, id, message: 'Only messages with t: "call" are accepted.' };
  if (typeof name !== 'string') return { ok: false, id, message: 'The call has no name.' };
  return { ok: true, request: { t: 'call', id, name, input } };
}

/** The id of a message that cannot be parsed, when it comes before any nested value. */
function leadingId(text: string): number | null {
  const id = /^\s*\{[^{}]*?"id"\s*:\s*(-?\d{1,15})\s*[,}]/.exec(text)?.[1];
  return id === undefined ? null : Number(id);
}
