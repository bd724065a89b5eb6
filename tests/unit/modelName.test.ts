import { describe, expect, it } from 'vitest';
import { calls } from '#contract/api';
import { modelDisplayName } from '../../src-main/core/models/modelName';

describe('a model’s display name', () => {
  it('is the file name when the GGUF’s general.name is generic', () => {
    expect(modelDisplayName('llama', '/m/stories260K.gguf', 'llama')).toBe('stories260K');
    expect(modelDisplayName('LLaMA v2', '/m/llama-2-tiny-random.gguf', 'llama')).toBe('llama-2-tiny-random');
    expect(modelDisplayName('Llama-3.1', '/m/my-finetune-Q4_K_M.gguf', 'llama')).toBe('my-finetune-Q4_K_M');
    expect(modelDisplayName('model', '/m/phi.gguf', 'phi3')).toBe('phi');
    expect(modelDisplayName('  ', 'C:\\models\\x.GGUF', null)).toBe('x');
    expect(modelDisplayName(undefined, '/m/qwen.gguf', 'qwen2')).toBe('qwen');
    expect(modelDisplayName('qwen2', '/m/qwen2.5-0.5b-instruct-q4_k_m.gguf', 'qwen2')).toBe('qwen2.5-0.5b-instruct-q4_k_m');
  });

  it('is the GGUF’s name when that names the model', () => {
    expect(modelDisplayName('Qwen2.5 0.5B Instruct', '/m/qwen2.5-0.5b-instruct-q4_k_m.gguf', 'qwen2')).toBe('Qwen2.5 0.5B Instruct');
    expect(modelDisplayName('Llama 3.2 1B Instruct', '/m/a.gguf', 'llama')).toBe('Llama 3.2 1B Instruct');
    expect(modelDisplayName('nomic-embed-text-v1.5', '/m/nomic.gguf', 'nomic-bert')).toBe('nomic-embed-text-v1.5');
  });
});

describe('model files named by a front end', () => {
  const check = (path: string) => calls['models.import'].input.safeParse({ path, copy: false });

  it('must be full paths: a relative one would resolve against the server’s working directory', () => {
    expect(check('/home/me/model.gguf').success).toBe(true);
    expect(check('C:\\Users\\me\\model.gguf').success).toBe(true);
    const relative = check('models/model.gguf');
    expect(relative.success).toBe(false);
    expect(relative.error?.issues[0]?.message).toMatch(/full path/);
    const url = check('https://example.com/model.gguf');
    expect(url.success).toBe(false);
    expect(url.error?.issues[0]?.message).toMatch(/not a URL/);
    expect(calls['models.add'].input.safeParse({ path: 'http:/x/model.gguf' }).success).toBe(false);
  });
});
