import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src-main/cli/cliContext';
import { table, terminalSafe } from '../../src-main/cli/format';
import { printError, printResult } from '../../src-main/cli/output';

/** Whether the text holds a character a terminal acts on: C0 but newline, DEL, C1, ESC included. */
function hasRawControl(text: string): boolean {
  return [...text].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
  });
}

function capture(): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } as unknown as CliContext;
  return { ctx, out, err };
}

describe('terminalSafe: user-controlled text shown, never obeyed, by the terminal', () => {
  it('shows an OSC 52 clipboard write as visible escapes', () => {
    const osc52 = 'notes\x1b]52;c;ZWNobyBwd25lZA==\x07.md';
    expect(terminalSafe(osc52)).toBe('notes\\x1b]52;c;ZWNobyBwd25lZA==\\x07.md');
  });

  it('shows CSI sequences (colours, cursor moves, clearing the screen) as text', () => {
    expect(terminalSafe('\x1b[31mred\x1b[0m \x1b[2J\x1b[H')).toBe('\\x1b[31mred\\x1b[0m \\x1b[2J\\x1b[H');
    expect(terminalSafe('8-bit CSI \u009b31m')).toBe('8-bit CSI \\x9b31m');
  });

  it('keeps a CR or a newline in a name from forging a line', () => {
    expect(terminalSafe('report.pdf\rerror INTERNAL: forged')).toBe('report.pdf\\rerror INTERNAL: forged');
    expect(terminalSafe('a\nindexed  fake.md')).toBe('a\\nindexed  fake.md');
    expect(terminalSafe('tab\there')).toBe('tab\\there');
    expect(terminalSafe('del\x7f nul\x00 bell\x07')).toBe('del\\x7f nul\\x00 bell\\x07');
  });

  it('shows bidi overrides and isolates, which make a name read backwards', () => {
    expect(terminalSafe('invoice\u202efdp.exe')).toBe('invoice\\u202efdp.exe');
    expect(terminalSafe('\u2066x\u2069 \u200f \u2028')).toBe('\\u2066x\\u2069 \\u200f \\u2028');
  });

  it('leaves ordinary text alone: accents, CJK, emoji, backslashes of Windows paths', () => {
    for (const text of ['Café notes.md', '日本語のメモ.txt', 'plan 🚀.md', 'C:\\Users\\me\\doc.txt', '']) expect(terminalSafe(text)).toBe(text);
  });

  it('with keepLines keeps newlines and tabs, and escapes everything else', () => {
    expect(terminalSafe('line one\n\tline two\r\x1b[K', { keepLines: true })).toBe('line one\n\tline two\\r\\x1b[K');
  });

  it('is idempotent: escaping twice shows the same text', () => {
    const once = terminalSafe('x\x1b]52;c;AA\x07\n\u202e');
    expect(terminalSafe(once)).toBe(once);
  });
});

describe('the CLI text output path escapes user strings', () => {
  it('table() escapes every cell, newlines included, and aligns on the escaped text', () => {
    const text = table([
      ['STATUS', 'PATH'],
      ['indexed', 'evil\x1b]52;c;AA\x07\n.md'],
    ]);
    expect(text.split('\n')).toEqual(['STATUS   PATH', 'indexed  evil\\x1b]52;c;AA\\x07\\n.md']);
  });

  it('printResult escapes control characters in the text (keeping its lines) and leaves --json to JSON', () => {
    const { ctx, out } = capture();
    printResult(ctx, false, null, () => 'Created "a\x1b[2Jb"\nsecond line\r');
    expect(out.join('')).toBe('Created "a\\x1b[2Jb"\nsecond line\\r\n');
    const json = capture();
    printResult(json.ctx, true, { name: 'a\x1b\n' }, 'unused');
    expect(JSON.parse(json.out.join(''))).toEqual({ name: 'a\x1b\n' });
    expect(hasRawControl(json.out.join(''))).toBe(false);
  });

  it('printError puts the whole message on one line, escaped', () => {
    const { ctx, err } = capture();
    printError(ctx, 'FILE_NOT_FOUND', '/tmp/a\rb\nerror FAKE: \x1b]52;c;AA\x07 does not exist.');
    expect(err.join('')).toBe('error FILE_NOT_FOUND: /tmp/a\\rb\\nerror FAKE: \\x1b]52;c;AA\\x07 does not exist.\n');
  });
});
