import type { GenerationParams } from '#contract/dto';

/** One sampling value as a form shows it: the contract's range, a step, and a line of help. */
export interface GenerationField {
  key: keyof GenerationParams;
  label: string;
  help: string;
  min: number;
  max: number;
  step: number;
  integer: boolean;
  /** The lower bound itself is not allowed (top-p must be above 0). */
  exclusiveMin?: boolean;
}

/** In the order a form lists them; ranges as the contract's generationParamsSchema checks them. */
export const GENERATION_FIELDS: readonly GenerationField[] = [
  { key: 'temperature', label: 'Temperature', help: '0 always picks the likeliest word; higher is more varied.', min: 0, max: 2, step: 0.05, integer: false },
  { key: 'topP', label: 'Top-p', help: 'Only the likeliest words whose chances add up to this.', min: 0, max: 1, step: 0.01, integer: false, exclusiveMin: true },
  { key: 'topK', label: 'Top-k', help: 'Only the K likeliest words; 0 means no limit.', min: 0, max: 1000, step: 1, integer: true },
  { key: 'repeatPenalty', label: 'Repeat penalty', help: 'Above 1 discourages repeating recent words; 1 is off.', min: 1, max: 2, step: 0.01, integer: false },
  { key: 'maxReplyTokens', label: 'Max reply tokens', help: 'A reply stops after this many tokens.', min: 1, max: 131_072, step: 1, integer: true },
];

/** What a form holds: a number per field, or null where it is left empty. */
export type GenerationDraft = Record<keyof GenerationParams, number | null>;

export function draftFrom(values: Partial<GenerationParams> | null | undefined): GenerationDraft {
  const draft = {} as GenerationDraft;
  for (const field of GENERATION_FIELDS) draft[field.key] = values?.[field.key] ?? null;
  return draft;
}

export type DraftCheck = { ok: true; values: Partial<GenerationParams> } | { ok: false; problem: string };

/**
 * The values a draft sets, or the first problem in words. `optional`: an empty field means
 * "the default" (a chat's or a preset's values); otherwise every field needs a value.
 */
export function checkDraft(draft: GenerationDraft, optional: boolean): DraftCheck {
  const values: Partial<GenerationParams> = {};
  for (const field of GENERATION_FIELDS) {
    const value = draft[field.key];
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
      if (optional) continue;
      return { ok: false, problem: `${field.label} needs a value.` };
    }
    const low = field.exclusiveMin ? value <= field.min : value < field.min;
    if (low || value > field.max || (field.integer && !Number.isInteger(value))) {
      const range = `${field.exclusiveMin ? 'above' : 'from'} ${field.min} ${field.exclusiveMin ? 'up to' : 'to'} ${field.max}`;
      return { ok: false, problem: `${field.label} takes ${field.integer ? 'a whole number' : 'a number'} ${range}.` };
    }
    values[field.key] = value;
  }
  return { ok: true, values };
}

export function sameValues(a: Partial<GenerationParams> | null, b: Partial<GenerationParams> | null): boolean {
  return GENERATION_FIELDS.every((f) => (a?.[f.key] ?? null) === (b?.[f.key] ?? null));
}
