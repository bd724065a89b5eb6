import { describe, expect, it } from 'vitest';
import { parseModelSource } from '../../src-main/cli/modelSourceArg';

describe('model source arguments (hearth models pull|fit)', () => {
  it('understands catalog ids, Hugging Face references and plain URLs', () => {
    expect(parseModelSource('qwen2.5-1.5b-instruct', 'x')).toEqual({ kind: 'catalog', id: 'qwen2.5-1.5b-instruct' });
    expect(parseModelSource('qwen2.5-1.5b-instruct:Q8_0', 'x')).toEqual({ kind: 'catalog', id: 'qwen2.5-1.5b-instruct', quantization: 'Q8_0' });
    expect(parseModelSource('qwen', 'x', { quant: 'Q4_K_M' })).toEqual({ kind: 'catalog', id: 'qwen', quantization: 'Q4_K_M' });
    expect(parseModelSource('Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf', 'x')).toEqual({
      kind: 'hub',
      repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF',
      file: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
    });
    expect(parseModelSource('hf:a/b/sub/dir/m.gguf', 'x')).toEqual({ kind: 'hub', repo: 'a/b', file: 'sub/dir/m.gguf' });
    expect(parseModelSource('https://huggingface.co/a/b/resolve/main/m%201.gguf?download=true', 'x')).toEqual({
      kind: 'hub',
      repo: 'a/b',
      revision: 'main',
      file: 'm 1.gguf',
    });
    expect(parseModelSource('http://192.168.1.5:8000/models/m.gguf', 'x', { sha256: 'ab'.repeat(32) })).toEqual({
      kind: 'url',
      url: 'http://192.168.1.5:8000/models/m.gguf',
      sha256: 'ab'.repeat(32),
    });
  });

  it('refuses anything else with a usage error', () => {
    expect(() => parseModelSource('not a source!', 'models pull')).toThrow(/catalog id/);
  });
});
