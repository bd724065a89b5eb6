import { text } from '../declare/options';

/** What SOURCE may be, said once for pull and fit. */
export const SOURCE_HELP =
  'A catalog id (qwen2.5-1.5b-instruct, with :QUANT or --quant Q8_0), a Hugging Face file (owner/repo/file.gguf) or a plain URL (a mirror, a file server on your LAN)';

export const quantOption = {
  quant: text('Q', 'For a catalog id: which quantization (default: the recommended one)'),
} as const;
