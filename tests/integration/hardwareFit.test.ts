import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FitResult } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import { HardwareFit, type FitCandidate } from '../../src-main/core/models/hardwareFit';
import { HubClient } from '../../src-main/core/models/hubClient';
import { ggufBytes, hugeModelBytes } from '../support/ggufWriter';
import { startHubServer, type HubServer } from '../support/hubServer';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const TOKEN = 'hf_fit_token';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return { code: (error as HearthError).code, message: (error as HearthError).message };
  }
  throw new Error('expected an error');
}

/** A valid llama-shaped GGUF whose one F32 tensor really is in the file: about 25.6 MB. */
function mediumModelBytes(): Buffer {
  const dims = [64n, 100_000n];
  return ggufBytes(
    {
      'general.architecture': { type: 'string', value: 'llama' },
      'general.name': { type: 'string', value: 'Medium Test Model' },
      'llama.block_count': { type: 'u32', value: 1 },
      'llama.context_length': { type: 'u32', value: 2048 },
      'llama.embedding_length': { type: 'u32', value: 64 },
      'llama.feed_forward_length': { type: 'u32', value: 64 },
      'llama.attention.head_count': { type: 'u32', value: 1 },
      'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    },
    [{ name: 'token_embd.weight', dims, ggmlType: 0 }],
    Number(dims[0]! * dims[1]! * 4n),
  );
}

/** Bytes a list of requests asked for, from their Range headers (a request without one asks for all). */
function rangeBytes(requests: HubServer['requests'], fileSize: number): number {
  return requests.reduce((sum, r) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(r.range ?? '');
    if (!m) return sum + fileSize;
    const end = m[2] ? Math.min(Number(m[2]), fileSize - 1) : fileSize - 1;
    return sum + Math.max(0, end - Number(m[1]) + 1);
  }, 0);
}

describe('HardwareFit (CPU-only llama: this machine has no GPU)', () => {
  let llama: Llama;
  let fit: HardwareFit;
  let hub: HubServer;
  let stories: string;
  let dir: { path: string; cleanup: () => void };
  const medium = mediumModelBytes();
  // Declares twice this machine's memory in F32 weights; only the header exists.
  const huge = hugeModelBytes(((BigInt(totalmem()) * 2n) / 4n / 1_000_000n) * 1_000_000n);

  beforeAll(async () => {
    // The crafted headers make llama.cpp's load simulation complain; that is expected, not news.
    llama = await getLlama({ gpu: false, build: 'never', logLevel: process.env.HEARTH_TEST_LOG === '1' ? LlamaLogLevel.debug : LlamaLogLevel.disabled });
    fit = new HardwareFit(async () => llama);
    stories = await testModelPath('stories260K');
    dir = tempDir('hearth-fit-');
    hub = await startHubServer(
      {
        'ggml-org/test-model-stories260K': { files: { 'stories260K-f32.gguf': stories } },
        'acme/Medium-GGUF': { files: { 'medium-F32.gguf': medium } },
        'acme/Huge-GGUF': { files: { 'huge-F32.gguf': huge } },
        'acme/Gated-GGUF': { gated: true, files: { 'stories-F32.gguf': stories } },
      },
      { token: TOKEN, plainFiles: { 'page.gguf': Buffer.from('<!doctype html><html><body>Sign in</body></html>') } },
    );
  });
  afterAll(async () => {
    await hub.close();
    await llama.dispose();
    dir.cleanup();
  });

  const hubClient = (token: string | null) => new HubClient({ endpoint: () => hub.url, token: async () => token });
  const requestsFor = (path: string) => hub.requests.filter((r) => r.path === path);

  it('reports this machine: CPU, cores, RAM, and no VRAM on a CPU-only llama', async () => {
    const hw = await fit.hardware();
    expect(hw.cpuModel.length).toBeGreaterThan(0);
    expect(hw.cpuCores).toBeGreaterThan(0);
    expect(hw.ramBytes).toBe(totalmem());
    expect(hw.freeRamBytes).toBeGreaterThan(0);
    expect(hw.freeRamBytes).toBeLessThanOrEqual(hw.ramBytes);
    expect(hw).toMatchObject({ vramBytes: 0, freeVramBytes: 0 });
  });

  let localResult: FitResult;
  it('a local model fits "CPU only" here, with the context it allows and its layer count', async () => {
    localResult = await fit.fit(stories);
    expect(localResult).toMatchObject({ verdict: 'cpu', label: 'CPU only', gpuLayers: 0 });
    expect(localResult.totalLayers).toBeGreaterThan(0);
    expect(localResult.contextSize).toBeGreaterThan(0);
    expect(localResult.contextSize).toBeLessThanOrEqual(2048); // its trained context
    expect(localResult.reason).toMatch(/No GPU is in use, so it runs on the CPU, using about .* of RAM with a [\d,]+-token context\./);
  });

  it('a GPU layers setting cannot move work to a GPU that is not there', async () => {
    expect((await fit.fit(stories, { gpuLayers: 4 })).verdict).toBe('cpu');
  });

  it('the same file over HTTP gives the same verdict, read with range requests', async () => {
    const url = hubClient(null).resolveUrl('ggml-org/test-model-stories260K', 'stories260K-f32.gguf');
    const before = hub.requests.length;
    const remote = await fit.fit(url);
    expect(remote).toEqual(localResult);
    const path = '/ggml-org/test-model-stories260K/resolve/main/stories260K-f32.gguf';
    const seen = hub.requests.slice(before).filter((r) => r.path === path);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.method === 'GET' && r.range !== null)).toBe(true);
  });

  it('over HTTP it reads only the header of a larger model, not its weights', async () => {
    const url = hubClient(null).resolveUrl('acme/Medium-GGUF', 'medium-F32.gguf');
    const result = await fit.fit(url);
    expect(result.verdict).toBe('cpu');
    const seen = requestsFor('/acme/Medium-GGUF/resolve/main/medium-F32.gguf');
    expect(seen.every((r) => r.range !== null)).toBe(true);
    const read = rangeBytes(seen, medium.length);
    expect(read).toBeLessThan(medium.length / 2);
  });

  it('a model larger than this machine\'s memory "Won\'t fit", saying which resource runs out', async () => {
    const url = hubClient(null).resolveUrl('acme/Huge-GGUF', 'huge-F32.gguf');
    const result = await fit.fit(url);
    expect(result).toMatchObject({ verdict: 'none', label: "Won't fit", contextSize: null, gpuLayers: 0 });
    expect(result.totalLayers).toBeGreaterThan(0);
    expect(result.reason).toMatch(/needs about \d+ GiB of memory .* this machine has \d+(\.\d)? GiB of RAM/);

    await mkdir(dir.path, { recursive: true });
    const local = join(dir.path, 'huge.gguf');
    await writeFile(local, huge);
    expect((await fit.fit(local)).verdict).toBe('none');
  });

  it('a gated file without a token is MODEL_GATED; with the hub token it fits', async () => {
    const client = hubClient(TOKEN);
    const url = client.resolveUrl('acme/Gated-GGUF', 'stories-F32.gguf');
    const gated = await codeOf(fit.fit(url));
    expect(gated.code).toBe('MODEL_GATED');
    expect(gated.message).toMatch(/token/);
    expect((await codeOf(fit.fit(url, { headers: { Authorization: 'Bearer hf_wrong' } }))).code).toBe('MODEL_GATED');
    expect((await fit.fit(url, { headers: await client.authHeaders() })).verdict).toBe('cpu');
  });

  it('a missing file is NOT_FOUND', async () => {
    const url = hubClient(null).resolveUrl('ggml-org/test-model-stories260K', 'nope-Q4_K_M.gguf');
    expect(await codeOf(fit.fit(url))).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('ggml-org/test-model-stories260K') });
    expect((await codeOf(fit.fit(`${hub.url}/files/absent.gguf`))).code).toBe('NOT_FOUND');
  });

  it('an HTML page instead of a GGUF is CORRUPT_FILE, without retrying', async () => {
    const before = hub.requests.length;
    const page = await codeOf(fit.fit(`${hub.url}/files/page.gguf`));
    expect(page.code).toBe('CORRUPT_FILE');
    expect(page.message).toMatch(/not a GGUF model file \(the server sent a web page/);
    expect(hub.requests.length - before).toBe(1);

    const path = '/ggml-org/test-model-stories260K/resolve/main/stories260K-f32.gguf';
    hub.fault(path, { kind: 'html' });
    try {
      expect((await codeOf(fit.fit(`${hub.url}${path}`))).code).toBe('CORRUPT_FILE');
    } finally {
      hub.fault(path, null);
    }
  });

  it('a server error is NETWORK_ERROR with the status', async () => {
    const path = '/ggml-org/test-model-stories260K/resolve/main/stories260K-f32.gguf';
    hub.fault(path, { kind: 'status', status: 502 });
    try {
      const result = await codeOf(fit.fit(`${hub.url}${path}`));
      expect(result.code).toBe('NETWORK_ERROR');
      expect(result.message).toMatch(/502/);
    } finally {
      hub.fault(path, null);
    }
  });

  it('an address with nothing listening is NETWORK_ERROR', async () => {
    const other = await startHubServer({});
    const url = `${other.url}/files/m.gguf`;
    await other.close();
    const result = await codeOf(fit.fit(url));
    expect(result.code).toBe('NETWORK_ERROR');
    expect(result.message).toMatch(/^Could not reach http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it('local files: missing is FILE_NOT_FOUND, not a GGUF or a cut header is CORRUPT_FILE', async () => {
    expect((await codeOf(fit.fit(join(dir.path, 'absent.gguf')))).code).toBe('FILE_NOT_FOUND');
    await writeFile(join(dir.path, 'notes.gguf'), 'plain text, not a model');
    expect((await codeOf(fit.fit(join(dir.path, 'notes.gguf')))).code).toBe('CORRUPT_FILE');
    await writeFile(join(dir.path, 'cut.gguf'), (await readFile(stories)).subarray(0, 200));
    expect((await codeOf(fit.fit(join(dir.path, 'cut.gguf')))).code).toBe('CORRUPT_FILE');
  });

  it('recommend() picks among real results: the CPU-only file over the one that will not fit', async () => {
    const candidates: FitCandidate[] = [
      { quantization: 'F32', fit: localResult, sizeBytes: 1_185_376 },
      { quantization: 'HUGE', fit: await fit.fit(join(dir.path, 'huge.gguf')), sizeBytes: 10 ** 12 },
    ];
    expect(fit.recommend(candidates)).toBe('F32');
  });
});

describe('HardwareFit.recommend', () => {
  const fit = new HardwareFit(() => Promise.reject(new Error('not needed')));
  const result = (verdict: FitResult['verdict']): FitResult => ({
    verdict,
    label: verdict,
    gpuLayers: 0,
    totalLayers: 32,
    contextSize: verdict === 'none' ? null : 4096,
    reason: '',
  });
  const c = (quantization: string, verdict: FitResult['verdict'], sizeBytes: number): FitCandidate => ({ quantization, fit: result(verdict), sizeBytes });

  it('prefers the largest quantization that fits on the GPU', () => {
    expect(fit.recommend([c('Q4_K_M', 'gpu', 4), c('Q8_0', 'partial', 8), c('Q6_K', 'gpu', 6), c('Q5_K_M', 'gpu', 5)])).toBe('Q6_K');
  });
  it('else the largest partly offloaded one', () => {
    expect(fit.recommend([c('Q4_K_M', 'partial', 4), c('Q8_0', 'none', 8), c('Q6_K', 'partial', 6), c('Q2_K', 'cpu', 2)])).toBe('Q6_K');
  });
  it('else the smallest CPU-only one', () => {
    expect(fit.recommend([c('Q8_0', 'cpu', 8), c('Q4_K_M', 'cpu', 4), c('Q6_K', 'cpu', 6), c('F16', 'none', 16)])).toBe('Q4_K_M');
  });
  it('else null', () => {
    expect(fit.recommend([c('Q8_0', 'none', 8)])).toBeNull();
    expect(fit.recommend([])).toBeNull();
  });
});
