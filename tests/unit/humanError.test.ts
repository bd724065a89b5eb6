import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src-preload/contract/errors';
import { APP_HOSTS } from '../../src-preload/contract/vocabulary';
import { ERROR_EXPLANATIONS, ERROR_PLACES, humanError, humanErrorText, mentionsCommand } from '../../src-renderer/src/lib/util/humanError';

const RENDERER = 'src-renderer/src';

/** The app's hash routes, read from its composition root (the routes an action may open). */
function appRoutes(): RegExp[] {
  const source = readFileSync(join(RENDERER, 'lib/stores/hearthApp.svelte.ts'), 'utf8');
  const routes = [...source.matchAll(/^const \w+_ROUTE = \/(.+)\/;$/gm)].map((m) => new RegExp(m[1]!));
  expect(routes.length).toBeGreaterThanOrEqual(4);
  return routes;
}

/** Every element id written literally in the renderer's components. */
function componentIds(): Set<string> {
  const ids = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.svelte')) {
        const source = readFileSync(path, 'utf8');
        for (const m of source.matchAll(/\sid="([\w-]+)"/g)) ids.add(m[1]!);
        // SettingsForm names its heading `${name}-title` from the name its wrapper passes.
        for (const m of source.matchAll(/<SettingsForm\b[^>]*?\sname="([\w-]+)"/g)) ids.add(`${m[1]!}-title`);
      }
    }
  };
  walk(join(RENDERER, 'lib/components'));
  // …which holds only while SettingsForm gives its heading that id.
  expect(readFileSync(join(RENDERER, 'lib/components/settings/SettingsForm.svelte'), 'utf8')).toContain('id="{name}-title"');
  return ids;
}

/** Any of the contract's codes written out (people read sentences, the details line has the code). */
const RAW_CODE = new RegExp(`\\b(${ERROR_CODES.join('|')})\\b`);

describe('errors for people', () => {
  it('every error code has a plain sentence for each host, without a raw code', () => {
    expect(Object.keys(ERROR_EXPLANATIONS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      for (const host of APP_HOSTS) {
        const { sentence } = humanError({ code, message: 'server words' }, host, true);
        expect(sentence.length, `${code} on ${host}`).toBeGreaterThan(10);
        expect(sentence, `${code} on ${host}`).toMatch(/^[A-Z"'].*[.?!]$/);
        expect(sentence, `${code} on ${host}`).not.toMatch(RAW_CODE);
      }
    }
  });

  it('tells desktop users to run no command, not even where the server message names one', () => {
    for (const code of ERROR_CODES) {
      const shown = humanError({ code, message: 'Run `hearth index rebuild` to make it again.' }, 'desktop', true);
      expect(mentionsCommand(shown.sentence), code).toBe(false);
      expect(shown.sentence, code).not.toMatch(/hearth serve|command line|terminal|npm /i);
      expect(shown.detail, code).toBeNull();
      if (shown.action) expect(mentionsCommand(shown.action.label), code).toBe(false);
    }
    // The browser page's user started `hearth serve` and may be told to check it.
    expect(humanError({ code: 'CONNECTION_LOST', message: 'No answer' }, 'server').sentence).toContain('hearth serve');
    expect(humanError({ code: 'CONNECTION_LOST', message: 'No answer' }, 'desktop').sentence).not.toContain('hearth');
  });

  it('every action opens a real screen (and section) or retries only where the caller can', () => {
    const routes = appRoutes();
    const ids = componentIds();
    for (const href of Object.values(ERROR_PLACES)) expect(routes.some((r) => r.test(href)), href).toBe(true);
    const retryable: ErrorCode[] = [];
    for (const code of ERROR_CODES) {
      const withRetry = humanError({ code, message: '' }, 'desktop', true).action;
      const without = humanError({ code, message: '' }, 'desktop', false).action;
      if (withRetry?.kind === 'retry') {
        retryable.push(code);
        expect(withRetry.label).toBe('Retry');
        expect(without, code).toBeNull();
      } else if (withRetry) {
        expect(without, code).toEqual(withRetry);
        expect(withRetry.label.length, code).toBeGreaterThan(3);
        expect(routes.some((r) => r.test(withRetry.href)), `${code} → ${withRetry.href}`).toBe(true);
        if (withRetry.section !== null) expect(ids.has(withRetry.section), `${code} → #${withRetry.section}`).toBe(true);
      }
    }
    expect(retryable).toEqual(expect.arrayContaining(['NETWORK_ERROR', 'DOWNLOAD_FAILED', 'BUSY', 'INTERNAL']));
    expect(humanError({ code: 'MODEL_NOT_LOADED', message: '' }, 'server').action).toMatchObject({ kind: 'open', href: '#/models/local' });
    expect(humanError({ code: 'VAULT_LOCKED', message: '' }, 'server').action).toMatchObject({ kind: 'open', label: 'Unlock the wallet', href: '#/backup' });
    expect(humanError({ code: 'CONTEXT_OVERFLOW', message: '' }, 'server').action).toMatchObject({ kind: 'open', href: '#/settings', section: 'settings-generation-title' });
  });

  it("keeps the server's specifics as a detail, and the code for the details line", () => {
    const shown = humanError({ code: 'FILE_NOT_FOUND', message: 'No file at /home/me/model.gguf' }, 'desktop');
    expect(shown).toMatchObject({ code: 'FILE_NOT_FOUND', detail: 'No file at /home/me/model.gguf', action: null });
    expect(shown.sentence).not.toContain('/home/me');
    expect(humanError({ code: 'INTERNAL', message: '   ' }, 'server').detail).toBeNull();
    // A damaged database's message is a recipe of commands: kept for a hearth serve page, left out in the desktop app.
    const recipe = 'hearth.db is damaged; read what is left with "sqlite3 -readonly hearth.db .dump", or restore with "hearth vault restore --data-dir NEW_DIR"';
    expect(humanError({ code: 'DATABASE_CORRUPT', message: recipe }, 'server').detail).toBe(recipe);
    expect(humanError({ code: 'DATABASE_CORRUPT', message: recipe }, 'desktop')).toMatchObject({ detail: null, action: { kind: 'open', href: '#/backup' } });
    expect(humanErrorText({ code: 'NETWORK_ERROR', message: 'fetch failed' }, 'desktop')).toMatch(/^Hearth could not reach .+ \(fetch failed\) Details: NETWORK_ERROR$/);
  });

  it('knows a command when it sees one', () => {
    expect(mentionsCommand('is `hearth serve` still running?')).toBe(true);
    expect(mentionsCommand('run hearth vault unlock first')).toBe(true);
    expect(mentionsCommand('Hearth could not reach the network.')).toBe(false);
    expect(mentionsCommand('No file at /tmp/hearth model.gguf')).toBe(false);
  });
});
