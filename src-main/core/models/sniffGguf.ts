import { readRegularFilePrefix } from '../common/regularFile';

const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/** What the first bytes of a would-be model file are. */
export type GgufSniff =
  | { gguf: true }
  /** `page` is true for an HTML page (a login, an error or a captive portal); `problem` says what the bytes are, for people. */
  | { gguf: false; page: boolean; problem: string };

const HTML_PAGE = 'the server sent an HTML page: the link may need a login, or lead to a web page rather than the file';

/**
 * Tells a GGUF from what servers send instead, from its first bytes (16 are enough; 4 tell a
 * GGUF and an HTML page). Used on local files, download probes and fit probes alike.
 */
export function sniffGguf(prefix: Buffer): GgufSniff {
  if (prefix.length >= 4 && prefix.subarray(0, 4).equals(GGUF_MAGIC)) return { gguf: true };
  const not = (problem: string, page = false): GgufSniff => ({ gguf: false, page, problem });
  if (prefix.length === 0) return not('the file is empty');
  const text = prefix.toString('latin1').replace(/^\u00EF\u00BB\u00BF/, '').trimStart();
  if (text.startsWith('<')) return not(HTML_PAGE, true);
  if (text.startsWith('{') || text.startsWith('[')) return not('the server sent JSON (an error or an API answer), not the file');
  if (prefix.length >= 10 && prefix.readUInt32LE(4) === 0 && prefix[8] === 0x7b) {
    return not('it is a safetensors file; Hearth runs GGUF models, so look for a GGUF version of this model');
  }
  if (prefix[0] === 0x50 && prefix[1] === 0x4b) return not('it is a ZIP archive');
  if (prefix[0] === 0x1f && prefix[1] === 0x8b) return not('it is a gzip archive');
  if ([...prefix].every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) return not('the server sent text, not the file');
  return not('the file does not start with "GGUF"');
}

/** True when a Content-Type names an HTML page. */
export function isHtmlType(contentType: string | null): boolean {
  return /^\s*(text\/html|application\/xhtml)/i.test(contentType ?? '');
}

/** Up to n bytes from the start of a file; a FIFO, a socket or a device is refused, never opened. */
export function readFilePrefix(path: string, n: number): Promise<Buffer> {
  return readRegularFilePrefix(path, n, { expected: 'a model file' });
}
