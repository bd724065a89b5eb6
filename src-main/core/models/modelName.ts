/** Names that say nothing about which model a file holds. */
const GENERIC_NAMES = new Set(['model', 'gguf', 'ggml', 'unknown', 'untitled', 'default', 'base', 'test', 'none', 'new model']);

/**
 * The one name a model is shown by everywhere (lists, the header, replies, the index): the
 * GGUF's general.name, unless it is generic (empty, "model", or only the architecture, with at
 * most a version: "llama", "LLaMA v2"), where the file name says more.
 */
export function modelDisplayName(name: string | null | undefined, path: string, architecture: string | null): string {
  const stem = (path.split(/[\\/]/).pop() ?? path).replace(/\.gguf$/i, '');
  const trimmed = (name ?? '').trim();
  return trimmed && !isGeneric(trimmed, architecture) ? trimmed : stem;
}

function isGeneric(name: string, architecture: string | null): boolean {
  const lower = name.toLowerCase();
  if (GENERIC_NAMES.has(lower)) return true;
  const compact = lower.replace(/[^\p{L}\p{N}]+/gu, '');
  if (compact.length < 3) return true;
  const arch = (architecture ?? '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  if (!arch) return false;
  // "llama", "llama2", "LLaMA v2", "llama-3.1": the architecture's name and a version, nothing more.
  const family = arch.replace(/\d+$/, '');
  return compact.startsWith(family) && /^v?\d*(?:\d)*$/.test(compact.slice(family.length).replace(/[.\s]/g, ''));
}
