import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkLedgerView, NetworkRequest } from '#contract/dto';
import { currentPurpose, egressFetch, withPurpose } from '../../src-main/core/common/egress';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { isLoopback } from '../../src-main/core/network/egressHook';
import { NetworkLedger } from '../../src-main/core/network/networkLedger';
import { createDispatcher } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { GatewayFetcher } from '../../src-main/core/vault/targets/gatewayFetcher';
import { KuboTarget } from '../../src-main/core/vault/targets/kuboTarget';
import { W3upTarget } from '../../src-main/core/vault/targets/w3upTarget';
import { carOf, randomBlocks } from '../support/carBlocks';
import { startHubServer, type HubServer } from '../support/hubServer';
import { startIpfsNode, type IpfsNode } from '../support/ipfsNode';
import { tempDir } from '../support/tempDir';
import { startW3upService, type W3upService } from '../support/w3upService';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

const logger = createConsoleLogger('error');
const execFileAsync = promisify(execFile);

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the ledger');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the server's side of each connection saw: bytes read and written, once it closed. */
interface Wire {
  read: number;
  written: number;
}

/**
 * A server on 127.0.0.1 that closes each connection after one answer, so each request has a
 * socket of its own and the server's byte counts per socket are the request's exact size.
 */
async function startWireServer(): Promise<{ url: string; wires: Promise<Wire>[]; server: Server }> {
  const wires: Promise<Wire>[] = [];
  const server = createServer((req, res) => {
    let received = 0;
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/moved-here', 'content-length': '0', connection: 'close' });
        res.end();
        return;
      }
      const body = req.url === '/big' ? Buffer.alloc(100_000, 7) : Buffer.from(`got ${received} bytes for ${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), connection: 'close' });
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    wires.push(new Promise((resolve) => socket.on('close', () => resolve({ read: socket.bytesRead, written: socket.bytesWritten }))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, wires, server };
}

describe('the network ledger records every request fetch sends (real HTTP servers on 127.0.0.1)', () => {
  const dir = tempDir('hearth-ledger-');
  const file = join(dir.path, 'network', 'ledger.db');
  let ledger: NetworkLedger;
  let wire: Awaited<ReturnType<typeof startWireServer>>;

  beforeAll(async () => {
    ledger = NetworkLedger.open({ file, logger });
    wire = await startWireServer();
  });

  afterAll(async () => {
    ledger.close();
    await new Promise((resolve) => wire.server.close(resolve));
    dir.cleanup();
  });

  /** Sends one request and returns the server's byte counts for it and the ledger's new record. */
  async function exchange(send: () => Promise<Response>): Promise<{ wire: Wire; record: NetworkRequest; body: Buffer }> {
    const before = ledger.view({ limit: 1 }).requests[0]?.id ?? 0;
    const index = wire.wires.length;
    const response = await send();
    const body = Buffer.from(await response.arrayBuffer());
    const seen = await wire.wires[index]!;
    const records = ledger.view({ limit: 10 }).requests.filter((r) => r.id > before);
    expect(records).toHaveLength(1);
    return { wire: seen, record: records[0]!, body };
  }

  it('counts a GET exactly as the server saw it, with its host, purpose and status', async () => {
    const { wire: seen, record, body } = await exchange(() => egressFetch('hub-api', `${wire.url}/api/models?search=x`, { headers: { accept: 'application/json' } }));
    expect(body.toString()).toBe('got 0 bytes for GET /api/models?search=x');
    expect(record).toMatchObject({ host: new URL(wire.url).host, local: true, purpose: 'hub-api', method: 'GET', status: 200, error: null });
    expect(record.bytesOut).toBe(seen.read);
    expect(record.bytesIn).toBe(seen.written);
  });

  it('counts request bodies, bytes and streams, and large answers', async () => {
    const text = await exchange(() => egressFetch('vault-publish', `${wire.url}/text`, { method: 'POST', body: 'hello, ledger' }));
    expect(text.body.toString()).toBe('got 13 bytes for POST /text');
    expect(text.record.bytesOut).toBe(text.wire.read);
    expect(text.record.bytesIn).toBe(text.wire.written);

    const payload = new Uint8Array(70_000).fill(1);
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(payload.subarray(0, 50_000));
          controller.enqueue(payload.subarray(50_000));
          controller.close();
        },
      });
    // A stream with its length announced, as the Kubo import sends its multipart body.
    const streamed = await exchange(() =>
      egressFetch('vault-publish', `${wire.url}/stream`, {
        method: 'POST',
        body: stream(),
        headers: { 'content-length': String(payload.length) },
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.body.toString()).toBe('got 70000 bytes for POST /stream');
    expect(streamed.record.bytesOut).toBe(streamed.wire.read);
    expect(streamed.record.bytesOut).toBeGreaterThan(70_000);

    const big = await exchange(() => egressFetch('model-download', `${wire.url}/big`));
    expect(big.body.length).toBe(100_000);
    expect(big.record).toMatchObject({ purpose: 'model-download', status: 200 });
    expect(big.record.bytesIn).toBe(big.wire.written);
  });

  it('records a request nobody declared a purpose for as unattributed, and one a library sends under its caller\'s purpose', async () => {
    const plain = await exchange(() => fetch(`${wire.url}/plain`));
    expect(plain.record.purpose).toBe('unattributed');
    // The purpose follows the async work started under it, as a library's own fetches do.
    const nested = await exchange(() =>
      withPurpose('vault-account', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return fetch(`${wire.url}/later`);
      }),
    );
    expect(nested.record.purpose).toBe('vault-account');
    // Context tracking is on only while a withPurpose runs: afterwards nothing inherits a purpose.
    expect(currentPurpose()).toBeUndefined();
    const after = await exchange(() => fetch(`${wire.url}/after`));
    expect(after.record.purpose).toBe('unattributed');
  });

  it('gives each egressFetch its own purpose, side by side, and to every hop of a redirect', async () => {
    const before = ledger.view({ limit: 1 }).requests[0]?.id ?? 0;
    const answers = await Promise.all([
      egressFetch('hub-api', `${wire.url}/one`),
      egressFetch('vault-restore', `${wire.url}/two`),
      egressFetch('model-probe', `${wire.url}/moved`),
    ]);
    await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    expect(answers[2]!.url).toBe(`${wire.url}/moved-here`);
    await until(() => ledger.view({ limit: 10 }).requests.filter((r) => r.id > before).length === 4);
    const records = ledger.view({ limit: 10 }).requests.filter((r) => r.id > before);
    const byStatus = (status: number) => records.filter((r) => r.status === status).map((r) => r.purpose).sort();
    expect(byStatus(200)).toEqual(['hub-api', 'model-probe', 'vault-restore']);
    expect(byStatus(302)).toEqual(['model-probe']);
  });

  it('records a request that got no answer, with why', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(egressFetch('vault-restore', `http://127.0.0.1:${port}/ipfs/x`)).rejects.toThrow();
    const record = ledger.view({ limit: 1 }).requests[0]!;
    expect(record).toMatchObject({ host: `127.0.0.1:${port}`, purpose: 'vault-restore', status: null, bytesIn: 0 });
    expect(record.error).toMatch(/ECONNREFUSED/);
  });

  it('marks requests to other machines as not local, and then something has left the machine', async () => {
    expect(ledger.view().remote.requests).toBe(0);
    // A private address no test machine serves: refused, unreachable or timed out (or, behind an
    // intercepting proxy, answered); whichever, the attempt is recorded once it ends.
    await egressFetch('hub-api', 'http://10.255.255.1/', { signal: AbortSignal.timeout(300) })
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
    await until(() => ledger.view({ remoteOnly: true }).requests.length > 0);
    const view = ledger.view({ remoteOnly: true });
    expect(view.requests).toHaveLength(1);
    expect(view.requests[0]).toMatchObject({ host: '10.255.255.1', local: false, purpose: 'hub-api' });
    expect(view.remote.requests).toBe(1);
    expect(view.hosts.find((h) => h.host === '10.255.255.1')).toMatchObject({ local: false, requests: 1 });
  });

  it('keeps only the newest requests, and every total', () => {
    const all = ledger.view({ limit: 10_000 });
    expect(all.requests.length).toBeGreaterThan(3);
    ledger.close();
    ledger = NetworkLedger.open({ file, logger, maxRequests: 3 });
    const pruned = ledger.view({ limit: 10_000 });
    expect(pruned.requests.map((r) => r.id)).toEqual(all.requests.slice(0, 3).map((r) => r.id));
    expect(pruned.hosts).toEqual(all.hosts);
    expect(pruned.since).toBe(all.since);
    expect(pruned.retention.maxRequests).toBe(3);
  });

  it('tells loopback from other hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]', '::1', '::ffff:127.0.0.1', 'app.localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['10.0.0.1', 'huggingface.co', '128.0.0.1', '::2', 'localhost.example.com', '[2001:db8::1]']) expect(isLoopback(host), host).toBe(false);
  });
});

describe('every outbound path of the core goes through the ledger', () => {
  let hub: HubServer;
  let ipfs: IpfsNode;
  const REPO = 'test/ledger-models';
  const FILE = 'stories260K.gguf';

  beforeAll(async () => {
    hub = await startHubServer({ [REPO]: { files: { [FILE]: readFileSync(await testModelPath('stories260K')) } } });
    ipfs = await startIpfsNode();
  });

  afterAll(async () => {
    await hub.close();
    await ipfs.close();
  });

  it('hub search, a fit of a remote file, a download and vault traffic, each under its purpose, all local', async () => {
    const test = createTestCore();
    try {
      const { core } = test;
      const call = createDispatcher(createHandlers(core), logger);
      core.settings.update({ hubEndpoint: hub.url });
      const host = new URL(hub.url).host;

      expect((await core.hub.search('ledger')).map((r) => r.repo)).toEqual([REPO]);
      await core.runner.fit({ kind: 'hub', repo: REPO, file: FILE });
      const job = await core.downloads.pull({ kind: 'hub', repo: REPO, file: FILE });
      expect((await core.jobs.wait(job.id)).status).toBe('completed');

      const kubo = new KuboTarget({ apiUrl: ipfs.apiUrl });
      await kubo.writePointer('ledgertest', new TextEncoder().encode('pointer'));
      expect(new TextDecoder().decode((await kubo.readPointer('ledgertest'))!)).toBe('pointer');
      // A block the node lacks: the gateway answers 404, still a request recorded.
      await expect(new GatewayFetcher(ipfs.gatewayUrl).get(CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'))).rejects.toThrow();

      const result = await call('network.ledger', { limit: 1000 });
      if (!result.ok) throw new Error(result.error.message);
      const view = result.value as NetworkLedgerView;
      const purposes = (h: string) => new Set(view.requests.filter((r) => r.host === h).map((r) => r.purpose));
      expect([...purposes(host)].sort()).toEqual(['hub-api', 'model-download', 'model-probe']);
      expect([...purposes(new URL(ipfs.apiUrl).host)].sort()).toEqual(['vault-publish', 'vault-restore']);
      expect(view.requests.every((r) => r.local)).toBe(true);
      expect(view.requests.filter((r) => r.purpose === 'unattributed')).toEqual([]);
      expect(view.remote).toEqual({ requests: 0, bytesOut: 0, bytesIn: 0 });
      // The whole file came in through ranged requests recorded as the download.
      const downloaded = view.requests.filter((r) => r.purpose === 'model-download').reduce((sum, r) => sum + r.bytesIn, 0);
      expect(downloaded).toBeGreaterThan(readFileSync(await testModelPath('stories260K')).length);
    } finally {
      await test.cleanup();
    }
  });
});

describe('the web3.storage client fetches on its own, and its requests are still recorded under their purpose', () => {
  const dir = tempDir('hearth-ledger-w3up-');
  let service: W3upService;
  let ledger: NetworkLedger;

  beforeAll(async () => {
    service = await startW3upService();
    ledger = NetworkLedger.open({ file: join(dir.path, 'ledger.db'), logger });
  });

  afterAll(async () => {
    ledger.close();
    await service.close();
    dir.cleanup();
  });

  it('sign-in and space as vault-account; the upload, its shard PUTs included, as vault-publish', async () => {
    const target = await W3upTarget.open({
      stateDir: join(dir.path, 'w3up'),
      serviceUrl: service.url,
      serviceDid: service.did,
      receiptsEndpoint: service.receiptsEndpoint,
      gatewayUrl: service.gatewayUrl,
      gatewayDid: service.did,
    });
    await Promise.all([target.login('ledger@example.com'), service.confirmLogin('ledger@example.com')]);
    await target.createSpace('ledger');
    const signedIn = ledger.view({ limit: 10_000 }).requests;
    expect(signedIn.length).toBeGreaterThan(0);
    expect(new Set(signedIn.filter((r) => r.host === new URL(service.url).host).map((r) => r.purpose))).toEqual(new Set(['vault-account']));

    const { car } = await carOf(dir.path, 'ledger.car', await randomBlocks([5000, 7000]));
    await target.publish(car);
    const published = ledger.view({ limit: 10_000 }).requests.filter((r) => !signedIn.some((s) => s.id === r.id));
    // The shard went up in a PUT to the service's storage (another host), counted with its body
    // (the largest PUT: the client also PUTs a small index of the shard).
    const put = published.filter((r) => r.method === 'PUT').sort((a, b) => b.bytesOut - a.bytesOut)[0];
    expect(put?.host).not.toBe(new URL(service.url).host);
    expect(put!.bytesOut).toBeGreaterThan(car.size);
    // What the client sent, to the service and to its storage, is the publish. The test service
    // runs in this process and calls a helper server of its own: the ledger records those too,
    // as unattributed (no Hearth code asked for them), which is what it should do.
    const clientHosts = new Set([new URL(service.url).host, put!.host]);
    expect(new Set(published.filter((r) => clientHosts.has(r.host)).map((r) => r.purpose))).toEqual(new Set(['vault-publish']));
    expect(published.filter((r) => r.purpose === 'unattributed').every((r) => !clientHosts.has(r.host))).toBe(true);
    expect(ledger.view().requests.every((r) => r.local)).toBe(true);
  });
});

/**
 * In a process where nothing has loaded Node's fetch yet (a CLI command), the ledger does not
 * load it at open (~25 ms of CPU): the hook waits for the first request and is in place before
 * that request is sent, whichever way it is sent.
 */
describe('a ledger opened before anything loaded fetch waits for the first request, and records it', () => {
  let wire: Awaited<ReturnType<typeof startWireServer>>;
  const dir = tempDir('hearth-ledger-child-');
  beforeAll(async () => {
    wire = await startWireServer();
  });
  afterAll(async () => {
    await new Promise((resolve) => wire.server.close(resolve));
    dir.cleanup();
  });

  const child = async (order: 'purpose-first' | 'global-first') => {
    const file = join(dir.path, order, 'ledger.db');
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'egressChild.ts'), file, wire.url, order], {
      cwd: join(__dirname, '..', '..'),
    });
    return JSON.parse(stdout) as { loadedBefore: boolean; loadedAtOpen: boolean; requests: { purpose: string; status: number; local: boolean; counted: boolean }[] };
  };

  it.each([
    ['egressFetch first', 'purpose-first', ['hub-api', 'unattributed', 'unattributed']],
    ['a fetch bound to the global first', 'global-first', ['unattributed', 'hub-api', 'unattributed']],
  ] as const)('%s: every request recorded, each under its purpose', async (_what, order, purposes) => {
    const seen = await child(order);
    expect(seen.loadedBefore).toBe(false);
    expect(seen.loadedAtOpen).toBe(false);
    expect(seen.requests.map((r) => r.purpose)).toEqual(purposes);
    for (const request of seen.requests) expect(request).toMatchObject({ status: 200, local: true, counted: true });
  });
});
