import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/common';
import { Marked, type Tokens } from 'marked';
import { mathExtension } from './markdownMath';

export interface MarkdownRenderer {
  /**
   * Model text to safe HTML. With `cursor`, a streaming cursor is placed at the end of the
   * last block so it sits after the last word rather than on a line of its own.
   */
  render(text: string, options?: { cursor?: boolean }): string;
}

/** Block elements the cursor descends into to reach the end of the text. */
const CURSOR_CONTAINERS = new Set([
  'P', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'DIV', 'PRE', 'CODE', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TD', 'TH',
  'H1', 'H2', 'H3', 'H4', 'H5', 'H6',
]);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A cleaned language name safe to put in a class attribute. */
function languageOf(lang: string | undefined): string {
  return (lang ?? '').trim().split(/\s+/)[0]?.toLowerCase().replace(/[^a-z0-9_+#.-]/g, '') ?? '';
}

export function createMarkdownRenderer(): MarkdownRenderer {
  const marked = new Marked({
    gfm: true,
    // Models write single newlines meaning line breaks.
    breaks: true,
    renderer: {
      code({ text, lang }: Tokens.Code): string {
        const language = languageOf(lang);
        const known = language !== '' && hljs.getLanguage(language) !== undefined;
        const body = known ? hljs.highlight(text, { language, ignoreIllegals: true }).value : escapeHtml(text);
        const cls = language ? ` language-${language}` : '';
        return `<pre><code class="hljs${cls}">${body}</code></pre>\n`;
      },
      // Raw HTML from a model is shown as text: it is almost always an example, not markup.
      html({ text }: Tokens.HTML | Tokens.Tag): string {
        return escapeHtml(text);
      },
      // Remote images are blocked by the CSP (and would tell a server we read the reply).
      image({ href, text }: Tokens.Image): string {
        return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
      },
    },
  });
  // Math ($E = mc^2$, $$…$$) as MathML through KaTeX.
  marked.use(mathExtension);

  const purify = DOMPurify(window);
  purify.addHook('afterSanitizeAttributes', (node) => {
    // The only inputs a reply holds are GFM task-list boxes (raw HTML is escaped above): each
    // is made a disabled checkbox whatever it claimed to be.
    if (node.tagName === 'INPUT') {
      node.setAttribute('type', 'checkbox');
      node.setAttribute('disabled', '');
      node.setAttribute('aria-label', node.hasAttribute('checked') ? 'Done' : 'Not done');
      node.classList.add('task-box');
    }
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });

  return {
    render(text, options = {}) {
      const html = marked.parse(text, { async: false });
      const dom = purify.sanitize(html, {
        USE_PROFILES: { html: true, mathMl: true },
        FORBID_TAGS: ['style', 'form', 'button', 'textarea', 'select'],
        FORBID_ATTR: ['style'],
        RETURN_DOM: true,
      });
      // RETURN_DOM gives the <body> that holds the clean tree.
      const body = dom instanceof HTMLElement ? dom : document.createElement('div');
      decorateCodeBlocks(body);
      if (options.cursor) placeCursor(body);
      return body.innerHTML;
    },
  };
}

/** Wraps each code block with a small bar naming its language and a copy button. */
function decorateCodeBlocks(root: HTMLElement): void {
  for (const pre of Array.from(root.querySelectorAll('pre'))) {
    const code = pre.querySelector('code');
    const language = Array.from(code?.classList ?? [])
      .find((c) => c.startsWith('language-'))
      ?.slice('language-'.length);
    const wrapper = document.createElement('div');
    wrapper.className = 'code-block';
    const bar = document.createElement('div');
    bar.className = 'code-bar';
    const label = document.createElement('span');
    label.textContent = language || 'text';
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'code-copy';
    copy.dataset.copyCode = '';
    copy.textContent = 'Copy';
    bar.append(label, copy);
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

function placeCursor(root: HTMLElement): void {
  let target: Element = root;
  for (;;) {
    const last = target.lastElementChild;
    if (!last || !CURSOR_CONTAINERS.has(last.tagName) || last.classList.contains('code-bar')) break;
    target = last;
  }
  const cursor = document.createElement('span');
  cursor.className = 'streaming-cursor';
  cursor.dataset.testid = 'streaming-cursor';
  cursor.setAttribute('aria-hidden', 'true');
  target.append(cursor);
}
