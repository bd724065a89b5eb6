import { describe, expect, it } from 'vitest';
import { linkCitations, type CitationMark } from '../../src-renderer/src/lib/util/citations';
import { documentFileHref, locationText, relativePath } from '../../src-renderer/src/lib/util/passage';

const marks: CitationMark[] = [
  { n: 1, label: 'Source 1: handbook.md, lines 3–9' },
  { n: 2, label: 'Source 2: "quoted" <b>&</b>.pdf, page 4' },
];

const button = (n: number) => new RegExp(`<button type="button" class="citation" data-cite="${n}"[^>]*>${n}</button>`);

describe('linkCitations', () => {
  it('turns [n] in text into citation buttons', () => {
    const html = linkCitations('<p>Tea is served at four [1]. Coffee too [2].</p>', marks);
    expect(html).toMatch(button(1));
    expect(html).toMatch(button(2));
    expect(html).not.toContain('[1]');
    expect(html.startsWith('<p>Tea is served at four <button')).toBe(true);
    expect(html.endsWith('</button>.</p>')).toBe(true);
  });

  it('escapes labels into attributes', () => {
    const html = linkCitations('<p>See [2]</p>', marks);
    expect(html).toContain('aria-label="Source 2: &#34;quoted&#34; &#60;b&#62;&#38;&#60;/b&#62;.pdf, page 4"');
    expect(html).not.toContain('<b>');
  });

  it('splits lists like [1, 2] and handles adjacent markers', () => {
    expect(linkCitations('<p>Both [1, 2].</p>', marks)).toMatch(/data-cite="1"[^>]*>1<\/button><button[^>]*data-cite="2"/);
    expect(linkCitations('<p>Both [1][2].</p>', marks)).toMatch(/data-cite="1"[^>]*>1<\/button><button[^>]*data-cite="2"/);
  });

  it('leaves numbers that were not cited, and lists naming one, as text', () => {
    expect(linkCitations('<p>Nothing [3] here.</p>', marks)).toBe('<p>Nothing [3] here.</p>');
    expect(linkCitations('<p>Mixed [1, 7].</p>', marks)).toBe('<p>Mixed [1, 7].</p>');
    expect(linkCitations('<p>Array a[i] and [x].</p>', marks)).toBe('<p>Array a[i] and [x].</p>');
  });

  it('never touches code, links or buttons', () => {
    const code = '<div class="code-block"><div class="code-bar"><span>ts</span><button type="button" class="code-copy" data-copy-code="">Copy [1]</button></div><pre><code class="hljs">xs[1] = ys[2];</code></pre></div>';
    expect(linkCitations(code, marks)).toBe(code);
    const inline = '<p>Use <code>list[1]</code> then [1].</p>';
    const out = linkCitations(inline, marks);
    expect(out).toContain('<code>list[1]</code>');
    expect(out).toMatch(button(1));
    const link = '<p><a href="https://example.org/[1]" target="_blank">ref [1]</a> and [2]</p>';
    const linked = linkCitations(link, marks);
    expect(linked).toContain('<a href="https://example.org/[1]" target="_blank">ref [1]</a>');
    expect(linked).toMatch(button(2));
  });

  it('handles nested code inside pre and text after it', () => {
    const html = '<pre><code>a [1]</code></pre><p>b [1]</p>';
    const out = linkCitations(html, marks);
    expect(out).toContain('<pre><code>a [1]</code></pre>');
    expect(out).toMatch(/<p>b <button[^>]*data-cite="1"/);
  });

  it('reads quoted attribute values that contain ">" as part of the tag', () => {
    const html = '<p><span title="a > [1]">x [1]</span></p>';
    const out = linkCitations(html, marks);
    expect(out).toContain('<span title="a > [1]">x <button');
  });

  it('keeps the streaming cursor and other markup intact', () => {
    const html = '<ul><li><strong>Tea</strong> [1]<span class="streaming-cursor" aria-hidden="true"></span></li></ul>';
    const out = linkCitations(html, marks);
    expect(out).toMatch(/^<ul><li><strong>Tea<\/strong> <button[^>]*>1<\/button><span class="streaming-cursor" aria-hidden="true"><\/span><\/li><\/ul>$/);
  });

  it('returns the input when nothing is cited', () => {
    expect(linkCitations('<p>[1]</p>', [])).toBe('<p>[1]</p>');
  });
});

describe('passage helpers', () => {
  const none = { pageStart: null, pageEnd: null, lineStart: null, lineEnd: null };

  it('says where a passage is', () => {
    expect(locationText({ ...none, pageStart: 3, pageEnd: 3 })).toBe('page 3');
    expect(locationText({ ...none, pageStart: 3, pageEnd: 4 })).toBe('pages 3–4');
    expect(locationText({ ...none, lineStart: 12, lineEnd: 30 })).toBe('lines 12–30');
    expect(locationText(none)).toBeNull();
  });

  it('links the original file, at the page for PDFs', () => {
    expect(documentFileHref({ docId: 'doc_1', isPdf: true, location: { ...none, pageStart: 2, pageEnd: 2 } })).toBe('documents/doc_1/file#page=2');
    expect(documentFileHref({ docId: 'doc_1', isPdf: false, location: { ...none, lineStart: 2, lineEnd: 5 } })).toBe('documents/doc_1/file');
    expect(documentFileHref({ docId: 'doc_1', isPdf: true, location: none })).toBe('documents/doc_1/file');
  });

  it('shows paths relative to their folder', () => {
    expect(relativePath('/home/a/docs/notes/x.md', '/home/a/docs')).toBe('notes/x.md');
    expect(relativePath('/home/a/docs/notes/x.md', '/home/a/docs/')).toBe('notes/x.md');
    expect(relativePath('/home/a/docs2/x.md', '/home/a/docs')).toBe('/home/a/docs2/x.md');
    expect(relativePath('C:\\Users\\a\\docs\\x.md', 'C:\\Users\\a\\docs')).toBe('x.md');
  });
});
