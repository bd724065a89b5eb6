import type { ModelSource } from '#contract/dto';
import { UsageError } from './usageError';

/**
 * What `hearth models pull|fit` accept, in the order they are tried:
 *   https://host/path/model.gguf         a plain URL (a mirror, a file server on the LAN)
 *   hf:owner/repo/file.gguf              a Hugging Face file (also owner/repo/file.gguf,
 *                                        and huggingface.co/owner/repo/resolve/rev/file URLs)
 *   catalog-id[:QUANT]                   an entry of the curated catalog
 */
export function parseModelSource(text: string, command: string, options: { quant?: string; sha256?: string } = {}): ModelSource {
  const value = text.trim();
  const hfUrl = /^https?:\/\/(?:www\.)?(?:huggingface\.co|hf\.co)\/([^/]+\/[^/]+)\/(?:resolve|blob)\/([^/]+)\/(.+?)(?:\?.*)?$/i.exec(value);
  if (hfUrl) return { kind: 'hub', repo: hfUrl[1]!, revision: hfUrl[2]!, file: decodeURIComponent(hfUrl[3]!) };
  if (/^https?:\/\//i.test(value)) return { kind: 'url', url: value, ...(options.sha256 ? { sha256: options.sha256 } : {}) };
  const hub = /^(?:hf:|huggingface:)?([\w.-]+\/[\w.-]+)\/(.+\.gguf)$/i.exec(value);
  if (hub) return { kind: 'hub', repo: hub[1]!, file: hub[2]! };
  const catalog = /^([\w.-]+)(?::([\w.-]+))?$/.exec(value);
  if (catalog) {
    const quantization = catalog[2] ?? options.quant;
    return { kind: 'catalog', id: catalog[1]!, ...(quantization ? { quantization } : {}) };
  }
  throw new UsageError(`"${text}" is not a catalog id, a Hugging Face file (owner/repo/file.gguf) or a URL`, command);
}
