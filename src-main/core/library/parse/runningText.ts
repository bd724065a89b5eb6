/** Text that repeats on every page of a document (running headers and footers, page numbers). */

/** The section, after a document's body, that holds its running headers and footers once each. */
export const RUNNING_HEADING = 'Page headers and footers';

/** How two running lines compare: case, spacing and digits do not count ("Page 3 of 9" is "page # of #"). */
export function runningKey(text: string): string {
  return text.toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
}

/** "7", "- 7 -", "Page 7", "page 7 of 12", "7 / 12", a roman numeral, or a bare "Page": nothing worth indexing. */
export function isPageNumber(text: string): boolean {
  const key = runningKey(text).replace(/^[-–—\s[(]+|[-–—\s\])]+$/g, '');
  return /^(?:page\s*)?(?:#|c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))(?:\s*(?:of|\/)\s*#)?$/.test(key);
}
