import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { HubClient, parseQuantization } from '../../src-main/core/models/hubClient';
import { startHubServer, type HubServer } from '../support/hubServer';
import { testModelPath } from '../support/testModels';

const TOKEN = 'hf_right_token';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return { code: (error as HearthError).code, message: (error as HearthError).message };
  }
  throw new Error('expected an error');
}

/** A throwaway real server for hub behaviours hubServer does not model. */
async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('HubClient against a hub-shaped server', () => {
  let hub: HubServer;
  let endpoint: string;
  let token: string | null = null;
  const seenUrls: string[] = [];
  let client: HubClient;

  const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

  beforeAll(async () => {
    hub = await startHubServer(
      {
        'acme/Tiny-GGUF': {
          downloads: 100,
          likes: 3,
          files: {
            'tiny-Q8_0.gguf': bytes(3000, 1),
            'tiny-Q4_K_M.gguf': bytes(1500, 2),
            'tiny-F16.gguf': bytes(6000, 3),
            'sub/tiny-IQ4_XS.gguf': bytes(1200, 4),
            'mmproj-tiny-f16.gguf': bytes(500, 5),
            'config.json': Buffer.from('{"not":"a model"}'),
            'odd name #1 Q5_K_M.gguf': bytes(2000, 6),
          },
        },
        'other/Popular-GGUF': { downloads: 5000, likes: 40, files: { 'popular-Q4_K_M.gguf': await testModelPath('stories260K') } },
        'acme/Gated-GGUF': { downloads: 10_000, likes: 90, gated: true, files: { 'gated-Q4_K_M.gguf': bytes(800, 7) } },
        'zed/Rare-GGUF': { downloads: 1, files: { 'rare.gguf': bytes(100, 8) } },
        'zed/Split-GGUF': {
          downloads: 2,
          files: {
            'big-Q8_0-00002-of-00002.gguf': bytes(100, 9),
            'big-Q8_0-00001-of-00002.gguf': bytes(900, 9),
            'big-Q4_K_M.gguf': bytes(600, 9),
          },
        },
      },
      { token: TOKEN },
    );
    endpoint = hub.url;
    client = new HubClient({
      endpoint: () => endpoint,
      token: async () => token,
      // A real fetch, wrapped only to see the query strings the hub server does not record.
      fetch: (input, init) => {
        seenUrls.push(String(input));
        return fetch(input, init);
      },
    });
  });
  afterAll(() => hub.close());

  describe('search', () => {
    it('asks the hub for GGUF repositories sorted by downloads, with the limit', async () => {
      await client.search('gguf', { limit: 7 });
      const url = new URL(seenUrls.at(-1)!);
      expect(url.pathname).toBe('/api/models');
      expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'expand'))).toEqual({
        search: 'gguf',
        filter: 'gguf',
        sort: 'downloads',
        direction: '-1',
        limit: '7',
      });
      expect(url.searchParams.getAll('expand')).toEqual(['downloads', 'likes', 'gated', 'lastModified']);
    });

    it('returns repositories most downloaded first, with likes, gate and update time', async () => {
      const results = await client.search('GGUF');
      expect(results.map((r) => r.repo)).toEqual(['acme/Gated-GGUF', 'other/Popular-GGUF', 'acme/Tiny-GGUF', 'zed/Split-GGUF', 'zed/Rare-GGUF']);
      expect(results[0]).toEqual({ repo: 'acme/Gated-GGUF', downloads: 10_000, likes: 90, gated: true, updatedAt: '2026-01-01T00:00:00.000Z' });
      expect(results[1]?.gated).toBe(false);
    });

    it('respects the limit', async () => {
      expect((await client.search('gguf', { limit: 2 })).map((r) => r.repo)).toEqual(['acme/Gated-GGUF', 'other/Popular-GGUF']);
      expect(await client.search('gguf', { limit: 1 })).toHaveLength(1);
    });

    it('finds by part of the name, and nothing for no match', async () => {
      expect((await client.search('tiny')).map((r) => r.repo)).toEqual(['acme/Tiny-GGUF']);
      expect(await client.search('no-such-model-anywhere')).toEqual([]);
    });

    it('an empty query lists the most downloaded GGUF repositories', async () => {
      expect(await client.search('', { limit: 3 })).toHaveLength(3);
      expect(new URL(seenUrls.at(-1)!).searchParams.has('search')).toBe(false);
    });
  });

  describe('files', () => {
    it('lists only GGUF model files, with exact sizes, the LFS sha256 and the quantization, smallest first', async () => {
      const files = await client.files('acme/Tiny-GGUF');
      expect(files).toEqual([
        { file: 'sub/tiny-IQ4_XS.gguf', sizeBytes: 1200, sha256: hub.sha256('acme/Tiny-GGUF', 'sub/tiny-IQ4_XS.gguf'), quantization: 'IQ4_XS' },
        { file: 'tiny-Q4_K_M.gguf', sizeBytes: 1500, sha256: hub.sha256('acme/Tiny-GGUF', 'tiny-Q4_K_M.gguf'), quantization: 'Q4_K_M' },
        { file: 'odd name #1 Q5_K_M.gguf', sizeBytes: 2000, sha256: hub.sha256('acme/Tiny-GGUF', 'odd name #1 Q5_K_M.gguf'), quantization: 'Q5_K_M' },
        { file: 'tiny-Q8_0.gguf', sizeBytes: 3000, sha256: hub.sha256('acme/Tiny-GGUF', 'tiny-Q8_0.gguf'), quantization: 'Q8_0' },
        { file: 'tiny-F16.gguf', sizeBytes: 6000, sha256: hub.sha256('acme/Tiny-GGUF', 'tiny-F16.gguf'), quantization: 'F16' },
      ]);
      expect(new URL(seenUrls.at(-1)!).pathname).toBe('/api/models/acme/Tiny-GGUF/tree/main');
      expect(new URL(seenUrls.at(-1)!).searchParams.get('recursive')).toBe('true');
    });

    it('a file whose name states no quantization has null', async () => {
      expect(await client.files('zed/Rare-GGUF')).toEqual([
        { file: 'rare.gguf', sizeBytes: 100, sha256: hub.sha256('zed/Rare-GGUF', 'rare.gguf'), quantization: null },
      ]);
    });

    it('keeps the parts of a split file together, ordered by the whole model size', async () => {
      expect((await client.files('zed/Split-GGUF')).map((f) => [f.file, f.quantization])).toEqual([
        ['big-Q4_K_M.gguf', 'Q4_K_M'],
        ['big-Q8_0-00001-of-00002.gguf', 'Q8_0'],
        ['big-Q8_0-00002-of-00002.gguf', 'Q8_0'],
      ]);
    });

    it('asks for the revision given', async () => {
      await client.files('acme/Tiny-GGUF', { revision: 'v1.0' });
      expect(new URL(seenUrls.at(-1)!).pathname).toBe('/api/models/acme/Tiny-GGUF/tree/v1.0');
    });

    it('a gated repository without a token is MODEL_GATED, telling the user to add a token and accept the licence', async () => {
      token = null;
      const result = await codeOf(client.files('acme/Gated-GGUF'));
      expect(result.code).toBe('MODEL_GATED');
      expect(result.message).toMatch(/acme\/Gated-GGUF is gated/);
      expect(result.message).toMatch(/token/);
      expect(result.message).toMatch(/licence/);
      expect(result.message).toContain('huggingface.co/acme/Gated-GGUF');
    });

    it('with the right token it lists the files', async () => {
      token = TOKEN;
      try {
        expect(await client.authHeaders()).toEqual({ Authorization: `Bearer ${TOKEN}` });
        const files = await client.files('acme/Gated-GGUF');
        expect(files.map((f) => f.file)).toEqual(['gated-Q4_K_M.gguf']);
      } finally {
        token = null;
      }
    });

    it('with a wrong token it is MODEL_GATED, saying the token has no access', async () => {
      token = 'hf_wrong';
      try {
        const result = await codeOf(client.files('acme/Gated-GGUF'));
        expect(result.code).toBe('MODEL_GATED');
        expect(result.message).toMatch(/token has no access/);
      } finally {
        token = null;
      }
    });

    it('an unknown repository is NOT_FOUND', async () => {
      const result = await codeOf(client.files('acme/Nope-GGUF'));
      expect(result).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('acme/Nope-GGUF') });
    });
  });

  it('authHeaders is empty without a token', async () => {
    token = null;
    expect(await client.authHeaders()).toEqual({});
  });

  describe('resolveUrl', () => {
    it('encodes each path segment and keeps the slashes, and the hub serves that URL', async () => {
      const url = client.resolveUrl('acme/Tiny-GGUF', 'odd name #1 Q5_K_M.gguf');
      expect(url).toBe(`${hub.url}/acme/Tiny-GGUF/resolve/main/odd%20name%20%231%20Q5_K_M.gguf`);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes(2000, 6));
      expect(client.resolveUrl('acme/Tiny-GGUF', 'sub/tiny-IQ4_XS.gguf', 'refs/pr/1')).toBe(
        `${hub.url}/acme/Tiny-GGUF/resolve/refs%2Fpr%2F1/sub/tiny-IQ4_XS.gguf`,
      );
    });

    it('follows the endpoint setting on every call, with or without a trailing slash', async () => {
      const before = endpoint;
      try {
        endpoint = 'https://hf-mirror.example/';
        expect(client.resolveUrl('a/b', 'c.gguf', 'main')).toBe('https://hf-mirror.example/a/b/resolve/main/c.gguf');
      } finally {
        endpoint = before;
      }
      expect(client.resolveUrl('a/b', 'c.gguf')).toBe(`${hub.url}/a/b/resolve/main/c.gguf`);
    });
  });
});

describe('HubClient when the hub misbehaves or is missing', () => {
  it('an endpoint with nothing listening is NETWORK_ERROR "Could not reach"', async () => {
    const dead = await startServer(() => undefined);
    await dead.close(); // the port is now closed
    const client = new HubClient({ endpoint: () => dead.url, token: async () => null });
    const search = await codeOf(client.search('x'));
    expect(search.code).toBe('NETWORK_ERROR');
    expect(search.message).toBe(`Could not reach ${dead.url}: connection refused (ECONNREFUSED)`);
    expect((await codeOf(client.files('a/b'))).code).toBe('NETWORK_ERROR');
  });

  it('an unresolvable host name is NETWORK_ERROR', async () => {
    const client = new HubClient({ endpoint: () => 'http://hub.invalid', token: async () => null });
    const result = await codeOf(client.search('x'));
    expect(result.code).toBe('NETWORK_ERROR');
    expect(result.message).toMatch(/^Could not reach http:\/\/hub\.invalid: /);
  });

  it('a server error is NETWORK_ERROR with the status; a page that is not JSON is NETWORK_ERROR too', async () => {
    const server = await startServer((req, res) => {
      if (req.url?.startsWith('/api/models?')) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: 'Service temporarily unavailable' }));
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Captive portal</title>');
    });
    try {
      const client = new HubClient({ endpoint: () => server.url, token: async () => null });
      const search = await codeOf(client.search('x'));
      expect(search.code).toBe('NETWORK_ERROR');
      expect(search.message).toMatch(/503/);
      expect(search.message).toMatch(/temporarily unavailable/);
      const files = await codeOf(client.files('a/b'));
      expect(files.code).toBe('NETWORK_ERROR');
      expect(files.message).toMatch(/not with JSON/);
    } finally {
      await server.close();
    }
  });

  it("trusts the hub's X-Error-Code: a 401 RepoNotFound is NOT_FOUND, a 403 GatedRepo is MODEL_GATED", async () => {
    const server = await startServer((req, res) => {
      const gated = req.url?.includes('/gated/');
      res.writeHead(gated ? 403 : 401, { 'content-type': 'application/json', 'x-error-code': gated ? 'GatedRepo' : 'RepoNotFound' });
      res.end(JSON.stringify({ error: 'Repository not found' }));
    });
    try {
      const client = new HubClient({ endpoint: () => server.url, token: async () => null });
      expect((await codeOf(client.files('private/thing'))).code).toBe('NOT_FOUND');
      expect((await codeOf(client.files('gated/thing'))).code).toBe('MODEL_GATED');
    } finally {
      await server.close();
    }
  });

  it('follows the tree listing across pages (Link rel="next")', async () => {
    const server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const second = url.searchParams.get('cursor') === 'p2';
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (!second) headers.link = `<${url.pathname}?recursive=true&cursor=p2>; rel="next"`;
      res.writeHead(200, headers);
      const file = second ? 'm-Q8_0.gguf' : 'm-Q4_K_M.gguf';
      const size = second ? 200 : 100;
      res.end(JSON.stringify([{ type: 'file', path: file, size, oid: 'f'.repeat(40), lfs: { oid: 'a'.repeat(64), size, pointerSize: 130 } }]));
    });
    try {
      const client = new HubClient({ endpoint: () => server.url, token: async () => null });
      expect((await client.files('o/m')).map((f) => [f.file, f.quantization])).toEqual([
        ['m-Q4_K_M.gguf', 'Q4_K_M'],
        ['m-Q8_0.gguf', 'Q8_0'],
      ]);
    } finally {
      await server.close();
    }
  });

  it('an aborted request is CANCELLED, not a network error', async () => {
    const server = await startServer(() => undefined); // never answers
    try {
      const client = new HubClient({ endpoint: () => server.url, token: async () => null });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      expect((await codeOf(client.search('x', { signal: controller.signal }))).code).toBe('CANCELLED');
    } finally {
      await server.close();
    }
  });
});

describe('parseQuantization', () => {
  it.each([
    ['Qwen2.5-7B-Instruct-Q4_K_M.gguf', 'Q4_K_M'],
    ['qwen2.5-1.5b-instruct-q8_0.gguf', 'Q8_0'],
    ['qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf', 'Q4_K_M'],
    ['nomic-embed-text-v1.5.Q5_K_M.gguf', 'Q5_K_M'],
    ['nomic-embed-text-v1.5.f16.gguf', 'F16'],
    ['bge-reranker-v2-m3-FP16.gguf', 'F16'],
    ['gemma-3-4b-it-BF16.gguf', 'BF16'],
    ['Llama-3.2-3B-Instruct-IQ4_XS.gguf', 'IQ4_XS'],
    ['Meta-Llama-3-8B-Instruct-IQ2_XXS.gguf', 'IQ2_XXS'],
    ['Qwen3-4B-UD-Q4_K_XL.gguf', 'Q4_K_XL'],
    ['Phi-3.5-mini-instruct-Q6_K.gguf', 'Q6_K'],
    ['stories260K-f32.gguf', 'F32'],
    ['models/sub/Model-Q3_K_S.gguf', 'Q3_K_S'],
    ['llama-2-tiny-random.gguf', null],
    ['Mistral-7B-Instruct-v0.3.gguf', null],
  ])('%s → %s', async (name, quantization) => {
    expect(await parseQuantization(name)).toBe(quantization);
  });
});
