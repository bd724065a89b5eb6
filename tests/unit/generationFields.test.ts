import { describe, expect, it } from 'vitest';
import { generationParamsSchema } from '#contract/api';
import { checkDraft, draftFrom, GENERATION_FIELDS, sameValues } from '../../src-renderer/src/lib/util/generationFields';
import { matchShortcut, SHORTCUTS, shortcutLabel } from '../../src-renderer/src/lib/util/shortcuts';

const key = (k: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean; alt?: boolean } = {}) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
  altKey: mods.alt ?? false,
});

describe('generation fields (the forms for defaults, presets and a chat)', () => {
  it('list every value the contract takes, with the contract’s ranges', () => {
    expect(GENERATION_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(generationParamsSchema.shape).sort());
    for (const field of GENERATION_FIELDS) {
      const at = (value: number) => generationParamsSchema.shape[field.key].safeParse(value).success;
      expect(at(field.max), `${field.key} max`).toBe(true);
      expect(at(field.max + 1), `${field.key} above max`).toBe(false);
      expect(at(field.min), `${field.key} min`).toBe(!field.exclusiveMin);
      expect(checkDraft({ ...draftFrom(null), [field.key]: field.min }, true).ok, `${field.key} min in the form`).toBe(!field.exclusiveMin);
    }
  });

  it('needs every value for the defaults, and treats an empty field as "the default" elsewhere', () => {
    expect(checkDraft(draftFrom(null), false)).toEqual({ ok: false, problem: 'Temperature needs a value.' });
    expect(checkDraft(draftFrom(null), true)).toEqual({ ok: true, values: {} });
    expect(checkDraft({ ...draftFrom(null), topK: 2.5 }, true)).toEqual({ ok: false, problem: 'Top-k takes a whole number from 0 to 1000.' });
    expect(checkDraft({ ...draftFrom(null), topP: 0 }, true)).toEqual({ ok: false, problem: 'Top-p takes a number above 0 up to 1.' });
    expect(checkDraft({ ...draftFrom(null), temperature: Number.NaN }, true)).toEqual({ ok: true, values: {} });
    expect(checkDraft(draftFrom({ temperature: 0.2, maxReplyTokens: 9 }), true)).toEqual({ ok: true, values: { temperature: 0.2, maxReplyTokens: 9 } });
    expect(sameValues({ temperature: 0.2 }, { temperature: 0.2, topP: undefined })).toBe(true);
    expect(sameValues({ temperature: 0.2 }, null)).toBe(false);
  });
});

describe('keyboard shortcuts', () => {
  it('match with Ctrl, or ⌘ on a Mac, and never with Alt', () => {
    expect(matchShortcut(key(',', { ctrl: true }), false)).toBe('settings');
    expect(matchShortcut(key(',', { meta: true }), true)).toBe('settings');
    expect(matchShortcut(key(',', { ctrl: true }), true)).toBeNull();
    expect(matchShortcut(key('O', { ctrl: true, shift: true }), false)).toBe('newChat');
    expect(matchShortcut(key('o', { ctrl: true, shift: true }), false)).toBe('newChat');
    expect(matchShortcut(key('O', { ctrl: true, shift: true, alt: true }), false)).toBeNull();
    expect(matchShortcut(key('Enter'), false)).toBeNull(); // the composer's own
  });

  it('are listed as the keys read', () => {
    const newChat = SHORTCUTS.find((s) => s.action === 'newChat')!;
    expect(shortcutLabel(newChat, false)).toBe('Ctrl+Shift+O');
    expect(shortcutLabel(newChat, true)).toBe('⌘⇧O');
  });
});
