import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 that answers like the Hugging Face hub (the parts Hearth
 * uses), serving real GGUF bytes with Range support, and can misbehave on purpose.
 *
 *   GET /api/models?search=Q&limit=N          search (repos whose name contains Q)
 *   GET /api/models/:owner/:name/tree/:rev     file listing with LFS sha256 and sizes
 *   GET|HEAD /:owner/:name/resolve/:rev/:file  the file (Range supported)
 *   GET|HEAD /files/:file                      plain URL downloads (a LAN file server)
 */
export interface HubRepo {
  files: Record<string, Buffer | string>;
  /** Gated repos need `Authorization: Bearer <token>`: 401 without one, 403 with a wrong one. */
  gated?: boolean;
  downloads?: number;
  likes?: number;
}

export type Fault =
  /** Closes the connection once the file's byte `afterBytes` is reached (absolute offset, whatever the Range). */
  | { kind: 'cut'; afterBytes: number; times?: number }
  | { kind: 'html' }
  | { kind: 'status'; status: number }
  | { kind: 'slow'; bytesPerSecond: number }
  | { kind: 'lie-length'; extraBytes: number };

export interface HubServer {
  url: string;
  port: number;
  /**
   * Every request seen, in order: method, path and Range header, and how many bytes of the
   * file were written back (exact under the 'slow' fault, which paces its writes; otherwise
   * what was handed to the socket, whether or not the client read it).
   */
  requests: { method: string; path: string; range: string | null; sent: number }[];
  /** Misbehave for one file path (as requested, e.g. "/o/r/resolve/main/m.gguf" or "/files/m.gguf"). */
  fault(path: string, fault: Fault | null): void;
  sha256(repo: string, file: string): string;
  close(): Promise<void>;
}

export async function startHubServer(repos: Record<string, HubRepo>, options: { token?: string; plainFiles?: Record<string, Buffer | string>; port?: number } = {}): Promise<HubServer> {
  const bytesOf = (value: Buffer | string) => (typeof value === 'string' ? readFileSync(value) : value);
  const data = new Map<string, { repo: string; file: string; bytes: Buffer; sha: string }>();
  for (const [repo, spec] of Object.entries(repos)) {
    for (const [file, value] of Object.entries(spec.files)) {
      const bytes = bytesOf(value);
      data.set(`${repo}/${file}`, { repo, file, bytes, sha: createHash('sha256').update(bytes).digest('hex') });
    }
  }
  const plain = new Map(Object.entries(options.plainFiles ?? {}).map(([name, value]) => [name, bytesOf(value)]));
  const faults = new Map<string, Fault>();
  const requests: HubServer['requests'] = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const authorized = (req: IncomingMessage, repo: string, res: ServerResponse): boolean => {
    if (!repos[repo]?.gated) return true;
    const auth = req.headers.authorization;
    if (!auth) {
      json(res, 401, { error: `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.` });
      return false;
    }
    if (auth !== `Bearer ${options.token}`) {
      json(res, 403, { error: `Access to model ${repo} is restricted and you are not in the authorized list.` });
      return false;
    }
    return true;
  };

  function serveBytes(req: IncomingMessage, res: ServerResponse, path: string, bytes: Buffer, sha: string | null): void {
    const record = requests[requests.length - 1];
    const count = (n: number) => {
      if (record) record.sent += n;
    };
    const fault = faults.get(path);
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'text/plain' });
      res.end(`status ${fault.status}`);
      return;
    }
    if (fault?.kind === 'html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><body><h1>Log in to continue</h1></body></html>');
      return;
    }
    let start = 0;
    let end = bytes.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), end);
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': end - start + 1 + (fault?.kind === 'lie-length' ? fault.extraBytes : 0),
      etag: `"${sha ?? 'x'}"`,
    };
    if (sha) headers['x-linked-etag'] = `"${sha}"`;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = bytes.subarray(start, end + 1);
    // A response that ends before the cut point is served whole and does not use up a cut.
    if (fault?.kind === 'cut' && end >= fault.afterBytes) {
      const part = body.subarray(0, Math.max(0, fault.afterBytes - start));
      count(part.length);
      res.write(part);
      if (fault.times !== undefined && --fault.times <= 0) faults.delete(path);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (fault?.kind === 'lie-length') {
      count(body.length);
      res.write(body);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (fault?.kind === 'slow') {
      const chunk = Math.max(1, Math.floor(fault.bytesPerSecond / 20));
      let offset = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        const part = body.subarray(offset, offset + chunk);
        count(part.length);
        res.write(part);
        offset += chunk;
        if (offset >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    count(body.length);
    res.end(body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range ?? null, sent: 0 });

    if (path === '/api/models') {
      const query = (url.searchParams.get('search') ?? '').toLowerCase();
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const found = Object.entries(repos)
        .filter(([repo]) => repo.toLowerCase().includes(query))
        .sort(([, a], [, b]) => (b.downloads ?? 0) - (a.downloads ?? 0))
        .slice(0, limit)
        .map(([repo, spec]) => ({
          _id: createHash('md5').update(repo).digest('hex').slice(0, 24),
          id: repo,
          modelId: repo,
          likes: spec.likes ?? 0,
          downloads: spec.downloads ?? 0,
          gated: spec.gated ? 'manual' : false,
          private: false,
          tags: ['gguf'],
          lastModified: '2026-01-01T00:00:00.000Z',
        }));
      return json(res, 200, found);
    }

    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    if (tree) {
      const repo = tree[1]!;
      if (!repos[repo]) return json(res, 404, { error: 'Repository not found' });
      if (!authorized(req, repo, res)) return;
      const files = [...data.values()].filter((d) => d.repo === repo);
      return json(res, 200, [
        { type: 'file', oid: 'a'.repeat(40), size: 1200, path: 'README.md' },
        ...files.map((d) => ({
          type: 'file',
          oid: createHash('sha1').update(d.bytes).digest('hex'),
          size: d.bytes.length,
          path: d.file,
          lfs: { oid: d.sha, size: d.bytes.length, pointerSize: 134 },
        })),
      ]);
    }

    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      const [, repo, , file] = resolve;
      if (!repos[repo!]) return json(res, 404, { error: 'Repository not found' });
      if (!authorized(req, repo!, res)) return;
      const entry = data.get(`${repo}/${file}`);
      if (!entry) return json(res, 404, { error: 'Entry not found' });
      return serveBytes(req, res, path, entry.bytes, entry.sha);
    }

    const plainFile = /^\/files\/(.+)$/.exec(path);
    if (plainFile) {
      const bytes = plain.get(plainFile[1]!);
      if (!bytes && !faults.has(path)) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end('Not found');
      }
      return serveBytes(req, res, path, bytes ?? Buffer.alloc(0), null);
    }

    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found');
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    fault: (path, fault) => (fault ? faults.set(path, fault) : faults.delete(path)),
    sha256: (repo, file) => {
      const entry = data.get(`${repo}/${file}`);
      if (!entry) throw new Error(`no ${repo}/${file}`);
      return entry.sha;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
