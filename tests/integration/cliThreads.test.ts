import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runHearth } from '../support/server';
import { tempDir } from '../support/tempDir';

const CHATGPT = join(__dirname, '..', 'support', 'fixtures', 'chatgpt-conversations.json');

/** `hearth threads import / export / search`: the built CLI on a real data directory. */
describe('hearth threads from the command line', () => {
  const data = tempDir('hearth-cli-threads-');
  const other = tempDir('hearth-cli-threads-other-');
  const files = tempDir('hearth-cli-threads-files-');
  const run = (args: string[], dir = data.path) => runHearth([...args, '--data-dir', dir]);

  beforeAll(() => assertBuilt());
  afterAll(() => {
    data.cleanup();
    other.cleanup();
    files.cleanup();
  });

  it('imports a ChatGPT export, finds its messages, and round-trips Hearth JSON to another data directory', async () => {
    const imported = await run(['threads', 'import', CHATGPT]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/Imported 2 chat\(s\) from the ChatGPT export/);
    expect(imported.stdout).toContain('Sourdough starter help');

    const search = await run(['threads', 'search', 'acetone', '--json']);
    expect(search.code, search.stderr).toBe(0);
    const hits = JSON.parse(search.stdout) as { threadTitle: string; snippet: { text: string; hit: boolean }[] }[];
    expect(hits.map((h) => h.threadTitle)).toEqual(['Sourdough starter help']);
    expect(hits[0]!.snippet.filter((p) => p.hit).map((p) => p.text)).toEqual(['acetone']);
    const text = await run(['threads', 'search', 'feed']);
    expect(text.stdout).toMatch(/\*feed/);

    const out = join(files.path, 'all.json');
    const exported = await run(['threads', 'export', '--format', 'json', '-o', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const again = await run(['threads', 'import', out, '--json'], other.path);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { format: string }).format).toBe('hearth');
    const reexported = await run(['threads', 'export', '--format', 'json'], other.path);
    expect(reexported.stdout).toBe(readFileSync(out, 'utf8'));

    const markdown = await run(['threads', 'export']);
    expect(markdown.stdout).toContain('# Sourdough starter help');
  });

  it('refuses a damaged file with IMPORT_INVALID and exit code 1, and imports nothing from it', async () => {
    const bad = join(files.path, 'bad.json');
    writeFileSync(bad, '[{"title": "half", "mapping": {"a": {"parent": null}}, "current_node": "b"}]');
    const before = await run(['threads', 'ls', '--json']);
    const result = await run(['threads', 'import', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/IMPORT_INVALID/);
    expect((await run(['threads', 'ls', '--json'])).stdout).toBe(before.stdout);
    const unknown = await run(['threads', 'export', '--thread', 'thr_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/THREAD_NOT_FOUND/);
  });
});
