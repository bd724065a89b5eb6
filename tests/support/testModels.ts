import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';

/** The pinned test models (see ../shared/models/README.md). */
export const TEST_MODELS = {
  stories260K: {
    file: 'stories260K.gguf',
    sha256: '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d',
    url: 'https://huggingface.co/ggml-org/test-model-stories260K/resolve/479896ec924af6d40fd419ab8f4d1eb2101de00d/stories260K-f32.gguf',
  },
  tinyRandom: {
    file: 'llama-2-tiny-random.gguf',
    sha256: '81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb',
    url: 'https://huggingface.co/aladar/llama-2-tiny-random-GGUF/resolve/main/llama-2-tiny-random.gguf',
  },
} as const;

export type TestModelName = keyof typeof TEST_MODELS;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** HEARTH_TEST_MODELS_DIR, else ../shared/models beside the checkout. */
export function testModelCacheDir(): string {
  return process.env.HEARTH_TEST_MODELS_DIR ?? resolve(repoRoot, '..', 'shared', 'models');
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const verified = new Map<string, Promise<string>>();

/**
 * Path to a verified copy of a pinned test model: from the cache directory when present,
 * else downloaded from Hugging Face (on a machine with internet). Either way the sha256 is
 * checked before the file is used.
 */
export function testModelPath(name: TestModelName): Promise<string> {
  const pin = TEST_MODELS[name];
  const cacheDir = testModelCacheDir();
  const path = join(cacheDir, pin.file);
  let promise = verified.get(path);
  if (!promise) {
    promise = (async () => {
      if (!existsSync(path)) await download(pin.url, path);
      const actual = await sha256(path);
      if (actual !== pin.sha256) throw new Error(`${path} has sha256 ${actual}, expected ${pin.sha256}`);
      return path;
    })();
    verified.set(path, promise);
  }
  return promise;
}

async function download(url: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`Test model download failed: ${response.status} ${url}`);
  const partial = `${path}.partial`;
  try {
    await pipeline(Readable.fromWeb(response.body as ReadableStream), createWriteStream(partial));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
