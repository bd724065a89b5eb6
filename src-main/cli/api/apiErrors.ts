import type { ErrorCode } from '#contract/errors';
import { toErrorData } from '../../core/common/hearthError';
import { ParamError } from './apiInput';

/** An error as both APIs need it: HTTP status, Hearth's code, words, and the parameter at fault. */
export interface ApiError {
  status: number;
  code: ErrorCode;
  message: string;
  param: string | null;
}

/** The model is busy: 503 for OpenAI clients, 529 ("overloaded") for Anthropic's. */
const BUSY_STATUS = 503;

const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_INPUT: 400,
  UNSUPPORTED: 400,
  CONTEXT_OVERFLOW: 400,
  MESSAGE_TOO_LARGE: 400,
  INSUFFICIENT_MEMORY: 400,
  MODEL_NOT_LOADED: 400,
  EMBEDDING_MODEL_MISSING: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MODEL_NOT_FOUND: 404,
  COLLECTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  BUSY: BUSY_STATUS,
};

export function apiError(error: unknown): ApiError {
  const data = toErrorData(error);
  return {
    status: STATUS[data.code] ?? 500,
    code: data.code,
    message: data.message,
    param: error instanceof ParamError ? error.param : null,
  };
}

/** OpenAI's names for what went wrong: its `type`, and a `code` clients branch on. */
const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'invalid_api_key',
  FORBIDDEN: 'insufficient_permissions',
  MODEL_NOT_FOUND: 'model_not_found',
  CONTEXT_OVERFLOW: 'context_length_exceeded',
  MESSAGE_TOO_LARGE: 'context_length_exceeded',
  UNSUPPORTED: 'unsupported_parameter',
  BUSY: 'server_busy',
  INSUFFICIENT_MEMORY: 'insufficient_memory',
};

export function openAiErrorBody(error: ApiError): { error: { message: string; type: string; param: string | null; code: string } } {
  const type = error.status === 401 ? 'invalid_request_error' : error.status === 403 ? 'permission_error' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message: error.message, type, param: error.param, code: OPENAI_CODES[error.code] ?? error.code.toLowerCase() } };
}

export function anthropicStatus(error: ApiError): number {
  return error.code === 'BUSY' ? 529 : error.status;
}

export function anthropicErrorBody(error: ApiError): { type: 'error'; error: { type: string; message: string } } {
  const status = anthropicStatus(error);
  const type =
    status === 400
      ? 'invalid_request_error'
      : status === 401
        ? 'authentication_error'
        : status === 403
          ? 'permission_error'
          : status === 404
            ? 'not_found_error'
            : status === 413
              ? 'request_too_large'
              : status === 529
                ? 'overloaded_error'
                : 'api_error';
  return { type: 'error', error: { type, message: error.message } };
}
