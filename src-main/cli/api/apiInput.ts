import type { ErrorCode } from '#contract/errors';
import { HearthError } from '../../core/common/hearthError';

/** A request body field that is wrong: BAD_INPUT (or UNSUPPORTED), naming the parameter. */
export class ParamError extends HearthError {
  constructor(
    readonly param: string,
    message: string,
    code: Extract<ErrorCode, 'BAD_INPUT' | 'UNSUPPORTED'> = 'BAD_INPUT',
  ) {
    super(code, message);
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown, param: string): JsonObject {
  if (!isObject(value)) throw new ParamError(param, `${param} must be an object.`);
  return value;
}

export function asArray(value: unknown, param: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ParamError(param, `${param} must be an array.`);
  return value;
}

export function asString(value: unknown, param: string): string {
  if (typeof value !== 'string') throw new ParamError(param, `${param} must be a string.`);
  return value;
}

/** The field, or null when it is absent or null. */
export function optional(body: JsonObject, name: string): unknown {
  const value = body[name];
  return value === undefined || value === null ? null : value;
}

export function optString(body: JsonObject, name: string, param = name): string | null {
  const value = optional(body, name);
  return value === null ? null : asString(value, param);
}

export function optBoolean(body: JsonObject, name: string, param = name): boolean | null {
  const value = optional(body, name);
  if (value === null) return null;
  if (typeof value !== 'boolean') throw new ParamError(param, `${param} must be true or false.`);
  return value;
}

export function optNumber(body: JsonObject, name: string, range: { min: number; max: number; integer?: boolean }, param = name): number | null {
  const value = optional(body, name);
  if (value === null) return null;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!range.integer || Number.isInteger(value));
  if (!ok || value < range.min || value > range.max) {
    throw new ParamError(param, `${param} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}.`);
  }
  return value;
}

/** A string or an array of strings (stop sequences): always an array. */
export function stringList(body: JsonObject, name: string, max: number, param = name): string[] {
  const value = optional(body, name);
  if (value === null) return [];
  const list = typeof value === 'string' ? [value] : asArray(value, param).map((item, i) => asString(item, `${param}[${i}]`));
  if (list.length > max) throw new ParamError(param, `${param} takes at most ${max} strings.`);
  return list.filter((s) => s.length > 0);
}

/** Refuses a parameter Hearth does not support, rather than ignoring it. */
export function unsupported(param: string, why: string): never {
  throw new ParamError(param, why, 'UNSUPPORTED');
}
