import { calls, isCallName } from '#contract/api';
import type { Result } from '#contract/errors';
import { HearthError, toErrorData } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { Handlers } from './handlers';

export type Dispatch = (name: unknown, input: unknown) => Promise<Result<unknown>>;

/**
 * The one entry point for untrusted callers (Electron IPC, the WebSocket): checks the call
 * name against the contract, validates the input with its schema, runs the handler, and
 * turns every outcome into a Result. Nothing thrown escapes.
 */
export function createDispatcher(handlers: Handlers, logger: Logger): Dispatch {
  return async (name, input) => {
    try {
      if (!isCallName(name)) throw new HearthError('BAD_INPUT', `Unknown call "${String(name).slice(0, 100)}"`);
      const parsed = calls[name].input.safeParse(input ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? ` (${issue.path.join('.')})` : '';
        throw new HearthError('BAD_INPUT', `Invalid input for ${name}${where}: ${issue?.message ?? 'invalid'}`);
      }
      const handler = handlers[name] as (input: unknown) => unknown;
      return { ok: true, value: (await handler(parsed.data)) ?? null };
    } catch (error) {
      const data = toErrorData(error);
      if (data.code === 'INTERNAL') logger.error(`call ${String(name)} failed`, error);
      return { ok: false, error: data };
    }
  };
}
