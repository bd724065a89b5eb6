import katex from 'katex';
import type { MarkedExtension, Tokens } from 'marked';

interface MathToken extends Tokens.Generic {
  text: string;
  display: boolean;
}

/**
 * TeX as MathML (the browser lays it out; no KaTeX stylesheet or inline styles needed, so the
 * sanitizer can keep forbidding style). The TeX source annotation is dropped: the sanitizer
 * would otherwise unwrap it into visible text.
 */
export function renderMath(tex: string, display: boolean): string {
  const html = katex.renderToString(tex, { displayMode: display, throwOnError: false, output: 'mathml', trust: false, strict: 'ignore' });
  return html.replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/g, '').replace(/<\/?semantics>/g, '');
}

/** $$…$$ or \[…\] on their own lines: display math. */
const BLOCK = /^(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/;
/**
 * $…$ (no space inside the dollars, no digit right after the closing one, so "$5 and $10" stays
 * text), $$…$$ inside a line, or \(…\).
 */
const INLINE = /^(?:\$\$([^$]+?)\$\$|\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)|\\\(([\s\S]+?)\\\))/;

/** marked extensions for math in model replies. */
export const mathExtension: MarkedExtension = {
  extensions: [
    {
      name: 'blockMath',
      level: 'block',
      start: (src: string) => src.match(/\$\$|\\\[/)?.index,
      tokenizer(src: string): MathToken | undefined {
        const match = BLOCK.exec(src);
        if (!match) return undefined;
        return { type: 'blockMath', raw: match[0], text: (match[1] ?? match[2] ?? '').trim(), display: true };
      },
      renderer: (token) => `<div class="math-block">${renderMath((token as MathToken).text, true)}</div>\n`,
    },
    {
      name: 'inlineMath',
      level: 'inline',
      start: (src: string) => src.match(/\$|\\\(/)?.index,
      tokenizer(src: string): MathToken | undefined {
        const match = INLINE.exec(src);
        if (!match) return undefined;
        const display = match[1] !== undefined;
        return { type: 'inlineMath', raw: match[0], text: (match[1] ?? match[2] ?? match[3] ?? '').trim(), display };
      },
      renderer: (token) => renderMath((token as MathToken).text, (token as MathToken).display),
    },
  ],
};
