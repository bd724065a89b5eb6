import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { CarIndexer } from '@ipld/car/indexer';
import { CarBlockIterator } from '@ipld/car/iterator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError } from '../../src-main/core/common/hearthError';
import { CarBlockIndex, writeCar } from '../../src-main/core/vault/carFile';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import { GatewayFetcher } from '../../src-main/core/vault/targets/gatewayFetcher';
import { KuboTarget } from '../../src-main/core/vault/targets/kuboTarget';
import { createTarget, openTarget, type TargetEnv } from '../../src-main/core/vault/targets/targetRegistry';
import type { Block, CarFile } from '../../src-main/core/vault/types';
import { carOf, closedPort, errorOf, listBlock, randomBlocks, rawBlock, rejectionOf } from '../support/carBlocks';
import { startIpfsNode, type IpfsNode } from '../support/ipfsNode';
import { describeTargetContract } from '../support/targetContract';
import { tempDir } from '../support/tempDir';

const MiB = 1024 * 1024;

// Every connection this file makes, to show the Helia node opens none of its own.
const connectedHosts: string[] = [];
const udpSockets: unknown[] = [];
const onUndiciConnect = (message: unknown): void => {
  connectedHosts.push(String((message as { connectParams?: { hostname?: unknown } }).connectParams?.hostname));
};
const onNetSocket = (message: unknown): void => {
  const socket = (message as { socket: Socket }).socket;
  socket.once('connect', () => connectedHosts.push(String(socket.remoteAddress)));
};
const onUdpSocket = (message: unknown): void => {
  udpSockets.push(message);
};
diagnostics.subscribe('undici:client:beforeConnect', onUndiciConnect);
diagnostics.subscribe('net.client.socket', onNetSocket);
diagnostics.subscribe('udp.socket', onUdpSocket);

const dirs: Array<{ cleanup: () => void }> = [];
function scratch(): string {
  const dir = tempDir('hearth-vault-targets-');
  dirs.push(dir);
  return dir.path;
}

afterAll(() => {
  diagnostics.unsubscribe('undici:client:beforeConnect', onUndiciConnect);
  diagnostics.unsubscribe('net.client.socket', onNetSocket);
  diagnostics.unsubscribe('udp.socket', onUdpSocket);
  for (const dir of dirs) dir.cleanup();
});

/** Folder and Kubo targets hold no agent state; the registry's environment is there for w3up. */
const env = (): TargetEnv => ({ w3up: { stateDir: scratch() } });

describe('writeCar and CarBlockIndex', () => {
  it('round-trips 200 blocks of random sizes up to 1 MiB, readable by the reference reader too', async () => {
    const dir = scratch();
    const sizes = [0, 1, MiB, ...Array.from({ length: 197 }, () => Math.floor(Math.random() * MiB))];
    const blocks = await randomBlocks(sizes);
    const { car, root } = await carOf(dir, 'snapshot.car', blocks);

    expect(car.path).toBe(join(dir, 'snapshot.car'));
    expect(car.root.equals(root.cid)).toBe(true);
    expect(car.size).toBe(statSync(car.path).size);
    expect(readdirSync(dir)).toEqual(['snapshot.car']);

    // @ipld/car's own iterator reads the same blocks, in order.
    const reference = await CarBlockIterator.fromIterable(createReadStream(car.path));
    expect((await reference.getRoots()).map(String)).toEqual([root.cid.toString()]);
    const seen: string[] = [];
    for await (const block of reference) seen.push(block.cid.toString());
    expect(seen).toEqual([root, ...blocks].map((b) => b.cid.toString()));

    const index = await CarBlockIndex.open([car.path]);
    expect(index.roots().map(String)).toEqual([root.cid.toString()]);
    expect(index.size).toBe(201);
    for (const block of [root, ...blocks]) {
      expect(index.has(block.cid)).toBe(true);
      const bytes = await index.get(block.cid);
      expect(bytes.length).toBe(block.bytes.length);
      expect(Buffer.from(bytes).equals(Buffer.from(block.bytes))).toBe(true);
    }
    await index.close();
  });

  it('refuses a CAR cut short at any point inside it, and garbage, as CORRUPT_FILE naming the file', async () => {
    const dir = scratch();
    const blocks = await randomBlocks(Array.from({ length: 20 }, (_, i) => 5000 + i * 100));
    const { car } = await carOf(dir, 'whole.car', blocks);
    const whole = readFileSync(car.path);
    const sections: Array<{ offset: number; blockOffset: number; blockLength: number }> = [];
    for await (const entry of await CarIndexer.fromBytes(whole)) sections.push(entry);
    const third = sections[3]!;
    const fifth = sections[5]!;
    const cuts = {
      empty: 0,
      'one byte': 1,
      'inside the header': sections[0]!.offset - 3,
      'inside a section head': third.offset + 2,
      'inside a CID': third.blockOffset - 5,
      'inside block data': fifth.blockOffset + 100,
      'one byte short': whole.length - 1,
    };
    for (const [what, at] of Object.entries(cuts)) {
      const path = join(dir, `cut ${what}.car`);
      writeFileSync(path, whole.subarray(0, at));
      const error = await errorOf(CarBlockIndex.open([path]));
      expect(error.code, what).toBe('CORRUPT_FILE');
      expect(error.message, what).toContain(path);
      expect(error.message).toMatch(/truncated or not a CAR file/);
    }

    const garbage = join(dir, 'garbage.car');
    writeFileSync(garbage, randomBytes(10_000));
    expect((await errorOf(CarBlockIndex.open([garbage]))).code).toBe('CORRUPT_FILE');
    const text = join(dir, 'notes.car');
    writeFileSync(text, 'These are not the blocks you are looking for.\n'.repeat(50));
    const textError = await errorOf(CarBlockIndex.open([car.path, text]));
    expect(textError.code).toBe('CORRUPT_FILE');
    expect(textError.message).toContain(text);

    // A cut exactly between blocks leaves a valid, shorter CAR: its later blocks are simply absent.
    const boundary = join(dir, 'boundary.car');
    writeFileSync(boundary, whole.subarray(0, fifth.offset));
    const shorter = await CarBlockIndex.open([boundary]);
    expect(shorter.size).toBe(5);
    expect((await errorOf(shorter.get(blocks[10]!.cid))).code).toBe('NOT_FOUND');
  });

  it('answers NOT_FOUND for a block that is not in the files, naming the block and the file', async () => {
    const dir = scratch();
    const { car } = await carOf(dir, 'a.car', await randomBlocks([100, 200]));
    const absent = await rawBlock(new Uint8Array(randomBytes(50)));
    const index = await CarBlockIndex.open([car.path]);
    expect(index.has(absent.cid)).toBe(false);
    const error = await errorOf(index.get(absent.cid));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(`Block ${absent.cid.toString()} is not in ${car.path}.`);
    expect((await errorOf(CarBlockIndex.open([join(dir, 'nope.car')]))).code).toBe('FILE_NOT_FOUND');
  });

  it('indexes several CARs as one, a block found in whichever holds it', async () => {
    const dir = scratch();
    const first = await carOf(dir, 'one.car', await randomBlocks([300, 400]));
    const secondBlocks = await randomBlocks([500]);
    const second = await carOf(dir, 'two.car', secondBlocks);
    const index = await CarBlockIndex.open([first.car.path, second.car.path]);
    expect(index.roots().map(String)).toEqual([first.root.cid.toString(), second.root.cid.toString()]);
    expect(Buffer.from(await index.get(secondBlocks[0]!.cid)).equals(Buffer.from(secondBlocks[0]!.bytes))).toBe(true);
  });

  it('leaves no file behind when aborted or when the blocks fail', async () => {
    const dir = scratch();
    const blocks = await randomBlocks(Array.from({ length: 50 }, () => 64 * 1024));
    const root = await listBlock(blocks);
    const controller = new AbortController();
    async function* abortingHalfway(): AsyncGenerator<Block> {
      for (const [i, block] of blocks.entries()) {
        if (i === 25) controller.abort();
        yield block;
      }
    }
    const aborted = await rejectionOf(writeCar(join(dir, 'aborted.car'), root.cid, abortingHalfway(), { signal: controller.signal }));
    expect(isAbortError(aborted)).toBe(true);

    async function* failing(): AsyncGenerator<Block> {
      yield blocks[0]!;
      throw new Error('the chunker broke');
    }
    const failed = await rejectionOf(writeCar(join(dir, 'failed.car'), root.cid, failing()));
    expect((failed as Error).message).toBe('the chunker broke');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describeTargetContract('folder', async () => {
  const usb = scratch();
  const targetEnv = env();
  const { config } = await createTarget({ kind: 'folder', path: usb }, targetEnv);
  return {
    config,
    env: targetEnv,
    location: (car) => join(usb, 'hearth-vault', 'cars', `${car.root.toString()}.car`),
    fetcherDescription: usb,
    unreachable: async () => {
      const unplugged = join(scratch(), 'USB-STICK');
      return { target: await openTarget({ kind: 'folder', path: unplugged }, targetEnv), code: 'TARGET_NOT_FOUND', mentions: unplugged };
    },
  };
});

describe('FolderTarget', () => {
  it('keeps one CAR file per root in hearth-vault/cars; a repeat goes beside it, never replacing it', async () => {
    const work = scratch();
    const usb = scratch();
    const blocks = await randomBlocks(Array.from({ length: 30 }, () => Math.floor(Math.random() * 200 * 1024)));
    const { car, root } = await carOf(work, 'snap.car', blocks);
    const target = new FolderTarget(usb);
    const result = await target.publish(car);

    const expected = join(usb, 'hearth-vault', 'cars', `${root.cid.toString()}.car`);
    expect(result.location).toBe(expected);
    expect(readFileSync(expected).equals(readFileSync(car.path))).toBe(true);
    expect(readdirSync(join(usb, 'hearth-vault', 'cars'))).toEqual([`${root.cid.toString()}.car`]);

    // Publishing the same root again never replaces the CAR already there.
    const again = await target.publish(car);
    expect(again.location).toBe(join(usb, 'hearth-vault', 'cars', `${root.cid.toString()}-1.car`));
    expect(readFileSync(expected).equals(readFileSync(car.path))).toBe(true);
    expect(readdirSync(join(usb, 'hearth-vault', 'cars')).filter((n) => !n.endsWith('.car'))).toEqual([]);
    // Listed once per file, by root.
    expect((await target.listUploads()).map((u) => u.root)).toEqual([root.cid.toString(), root.cid.toString()]);
  });

  it('keeps serving blocks when one CAR in the folder is damaged, and names it when a block is missing', async () => {
    const work = scratch();
    const usb = scratch();
    const good = await randomBlocks([1000, 2000]);
    const { car } = await carOf(work, 'good.car', good);
    const target = new FolderTarget(usb);
    await target.publish(car);
    const bad = await carOf(work, 'bad.car', await randomBlocks([40_000]));
    const badCopy = join(usb, 'hearth-vault', 'cars', `${bad.root.cid.toString()}.car`);
    writeFileSync(badCopy, readFileSync(bad.car.path).subarray(0, bad.car.size - 100));

    const fetcher = target.fetcher();
    expect(Buffer.from(await fetcher.get(good[0]!.cid)).equals(Buffer.from(good[0]!.bytes))).toBe(true);
    const error = await errorOf(fetcher.get(bad.root.cid));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain(`${bad.root.cid.toString()}.car is truncated`);
  });

  it('stores pointers atomically: one file per name, replaced whole, no temporary file left', async () => {
    const usb = scratch();
    const target = new FolderTarget(usb);
    await target.writePointer('latest0001', new TextEncoder().encode('first'));
    await target.writePointer('latest0001', new TextEncoder().encode('second, longer'));
    expect(new TextDecoder().decode((await target.readPointer('latest0001'))!)).toBe('second, longer');
    expect(readdirSync(join(usb, 'hearth-vault', 'pointers'))).toEqual(['latest0001']);
  });

  it('answers TARGET_NOT_FOUND for a folder that is not there, and does not create it', async () => {
    const work = scratch();
    const unplugged = join(scratch(), 'USB-STICK');
    const { car, root } = await carOf(work, 'x.car', await randomBlocks([10]));
    const target = new FolderTarget(unplugged);
    // Thunks: each attempt starts only when awaited, so none rejects unobserved.
    for (const attempt of [
      () => target.publish(car),
      () => target.writePointer('latest0001', new Uint8Array(1)),
      () => target.readPointer('latest0001'),
      () => target.fetcher().get(root.cid),
      () => target.listUploads(),
    ]) {
      const error = await errorOf(attempt());
      expect(error.code).toBe('TARGET_NOT_FOUND');
      expect(error.message).toContain(unplugged);
      expect(error.message).toMatch(/plug in/);
    }
    expect(existsSync(unplugged)).toBe(false);
  });

  it('leaves no partial file when a publish is aborted half way', async () => {
    const work = scratch();
    const usb = scratch();
    const { car } = await carOf(work, 'big.car', await randomBlocks(Array.from({ length: 24 }, () => MiB)));
    const target = new FolderTarget(usb);
    const controller = new AbortController();
    const progress: number[] = [];
    const error = await rejectionOf(
      target.publish(car, {
        signal: controller.signal,
        onProgress: (sent) => {
          progress.push(sent);
          if (sent > 3 * MiB) controller.abort();
        },
      }),
    );
    expect(isAbortError(error)).toBe(true);
    expect(progress.at(-1)).toBeLessThan(car.size);
    expect(readdirSync(join(usb, 'hearth-vault', 'cars'))).toEqual([]);
  });
});

describeTargetContract('kubo', async () => {
  const node = await startIpfsNode();
  const targetEnv = env();
  // The address as a user may type it, with a trailing slash: saved without it.
  const { config } = await createTarget({ kind: 'kubo', apiUrl: `${node.apiUrl}/` }, targetEnv);
  return {
    config,
    env: targetEnv,
    location: () => node.apiUrl,
    fetcherDescription: `the IPFS node at ${node.apiUrl}`,
    unreachable: async () => {
      const apiUrl = `http://127.0.0.1:${await closedPort()}`;
      return { target: await openTarget({ kind: 'kubo', apiUrl }, targetEnv), code: 'NETWORK_ERROR', mentions: `Cannot reach the IPFS node at ${apiUrl}: is it running?` };
    },
    cleanup: () => node.close(),
  };
});

describe('KuboTarget and GatewayFetcher against a Helia node', () => {
  let node: IpfsNode;
  let work: string;
  let blocks: Block[];
  let root: Block;
  let car: CarFile;

  beforeAll(async () => {
    node = await startIpfsNode();
    work = scratch();
    blocks = await randomBlocks(Array.from({ length: 40 }, () => Math.floor(Math.random() * 256 * 1024)));
    ({ car, root } = await carOf(work, 'snap.car', blocks));
  });

  afterAll(async () => {
    await node.close();
  });

  it('publishes with dag/import: the node holds every block in its blockstore and pins the root', async () => {
    const target = new KuboTarget({ apiUrl: node.apiUrl });
    await target.publish(car);
    for (const block of [root, ...blocks]) expect(await node.helia.blockstore.has(block.cid)).toBe(true);
    expect(await node.helia.pins.isPinned(root.cid)).toBe(true);
    expect(await node.helia.pins.isPinned(blocks[7]!.cid)).toBe(true);
  });

  it('gets each block back through block/get and through the gateway, byte for byte', async () => {
    const kubo = new KuboTarget({ apiUrl: `${node.apiUrl}/` }).fetcher();
    const gateway = new GatewayFetcher(node.gatewayUrl);
    expect(kubo.description).toBe(`the IPFS node at ${node.apiUrl}`);
    expect(gateway.description).toBe(`the gateway ${node.gatewayUrl}`);
    for (const block of [root, ...blocks]) {
      const before = node.requests.get(block.cid.toString()) ?? 0;
      const viaRpc = await kubo.get(block.cid);
      const viaGateway = await gateway.get(block.cid);
      expect(Buffer.from(viaRpc).equals(Buffer.from(block.bytes))).toBe(true);
      expect(Buffer.from(viaGateway).equals(Buffer.from(viaRpc))).toBe(true);
      expect(node.requests.get(block.cid.toString())).toBe(before + 2);
    }
  });

  it('answers NOT_FOUND for a block the node lacks, naming the block and where', async () => {
    const absent = await rawBlock(new Uint8Array(randomBytes(64)));
    const viaRpc = await errorOf(new KuboTarget({ apiUrl: node.apiUrl }).fetcher().get(absent.cid));
    expect(viaRpc.code).toBe('NOT_FOUND');
    expect(viaRpc.message).toContain(absent.cid.toString());
    expect(viaRpc.message).toContain(node.apiUrl);
    const viaGateway = await errorOf(new GatewayFetcher(node.gatewayUrl).get(absent.cid));
    expect(viaGateway.code).toBe('NOT_FOUND');
    expect(viaGateway.message).toBe(`Block ${absent.cid.toString()} is not on the gateway ${node.gatewayUrl} (HTTP 404).`);
  });

  it("reports the node's refusal: an incomplete DAG it cannot pin, a block that is not what its CID says", async () => {
    const target = new KuboTarget({ apiUrl: node.apiUrl });
    const included = await randomBlocks([100]);
    const leftOut = await rawBlock(new Uint8Array(randomBytes(100)));
    const partialRoot = await listBlock([...included, leftOut]);
    const partial = await writeCar(join(work, 'partial.car'), partialRoot.cid, [partialRoot, ...included]);
    const pinError = await errorOf(target.publish(partial));
    expect(pinError.code).toBe('NETWORK_ERROR');
    expect(pinError.message).toContain('could not pin');
    expect(pinError.message).toContain(leftOut.cid.toString());

    const [a, b] = await randomBlocks([100, 100]);
    const lying = await writeCar(join(work, 'lying.car'), a!.cid, [{ cid: a!.cid, bytes: b!.bytes }]);
    const importError = await errorOf(target.publish(lying));
    expect(importError.code).toBe('NETWORK_ERROR');
    expect(importError.message).toContain('does not match its hash');
    expect(await node.helia.blockstore.has(a!.cid)).toBe(false);
  });

  it('returns whatever the server sends, however wrong; refuses more than 2 MiB', async () => {
    const victim = blocks[3]!;
    const gateway = new GatewayFetcher(node.gatewayUrl);
    const kubo = new KuboTarget({ apiUrl: node.apiUrl }).fetcher();
    const impostor = new Uint8Array(randomBytes(77));
    node.replace(victim.cid.toString(), impostor);
    try {
      // Verification is the caller's job: the fetcher hands over exactly what came.
      expect(Buffer.from(await gateway.get(victim.cid)).equals(Buffer.from(impostor))).toBe(true);
      expect(Buffer.from(await kubo.get(victim.cid)).equals(Buffer.from(impostor))).toBe(true);

      node.replace(victim.cid.toString(), null);
      expect((await errorOf(gateway.get(victim.cid))).code).toBe('NOT_FOUND');

      node.replace(victim.cid.toString(), new Uint8Array(2 * MiB + 1));
      const tooBig = await errorOf(gateway.get(victim.cid));
      expect(tooBig.code).toBe('INTEGRITY_ERROR');
      expect(tooBig.message).toContain(victim.cid.toString());
      expect((await errorOf(kubo.get(victim.cid))).code).toBe('INTEGRITY_ERROR');
      node.replace(victim.cid.toString(), new Uint8Array(2 * MiB));
      expect((await gateway.get(victim.cid)).length).toBe(2 * MiB);
    } finally {
      node.replace(victim.cid.toString(), victim.bytes);
    }
  });

  it('fails with NETWORK_ERROR once the node starts failing (failAfter), and recovers', async () => {
    const gateway = new GatewayFetcher(node.gatewayUrl);
    const kubo = new KuboTarget({ apiUrl: node.apiUrl }).fetcher();
    node.failAfter(2);
    try {
      await gateway.get(blocks[0]!.cid);
      await kubo.get(blocks[1]!.cid);
      const fromGateway = await errorOf(gateway.get(blocks[2]!.cid));
      expect(fromGateway.code).toBe('NETWORK_ERROR');
      expect(fromGateway.message).toContain('HTTP 503');
      const fromRpc = await errorOf(kubo.get(blocks[2]!.cid));
      expect(fromRpc.code).toBe('NETWORK_ERROR');
      expect(fromRpc.message).toContain('HTTP 503');
    } finally {
      node.failAfter(null);
    }
    expect(Buffer.from(await gateway.get(blocks[2]!.cid)).equals(Buffer.from(blocks[2]!.bytes))).toBe(true);
  });

  it('says the gateway is unreachable when nothing listens at the address', async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    const gatewayError = await errorOf(new GatewayFetcher(apiUrl).get(root.cid));
    expect(gatewayError.code).toBe('NETWORK_ERROR');
    expect(gatewayError.message).toContain(apiUrl);
  });

  it('cancels an upload half way', async () => {
    const big = await carOf(work, 'big.car', await randomBlocks(Array.from({ length: 16 }, () => MiB)));
    const controller = new AbortController();
    const error = await errorOf(
      new KuboTarget({ apiUrl: node.apiUrl }).publish(big.car, {
        signal: controller.signal,
        onProgress: (sent) => {
          if (sent > 2 * MiB) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('CANCELLED');
    expect(await node.helia.pins.isPinned(big.root.cid)).toBe(false);
  });

  it('sends its headers, and maps a refusal to UNAUTHORIZED; a wrong address is named', async () => {
    const guarded = await startIpfsNode({ authorization: 'Bearer s3cret' });
    try {
      const refused = await errorOf(new KuboTarget({ apiUrl: guarded.apiUrl }).publish(car));
      expect(refused.code).toBe('UNAUTHORIZED');
      expect(refused.message).toContain(guarded.apiUrl);
      const allowed = new KuboTarget({ apiUrl: guarded.apiUrl, headers: { authorization: 'Bearer s3cret' } });
      await allowed.publish(car);
      expect(await guarded.helia.pins.isPinned(root.cid)).toBe(true);
    } finally {
      await guarded.close();
    }
    const wrong = await errorOf(new KuboTarget({ apiUrl: `${node.apiUrl}/not-the-api` }).publish(car));
    expect(wrong.code).toBe('NETWORK_ERROR');
    expect(wrong.message).toMatch(/does not answer like a Kubo RPC API/);
    expect((await errorOf(Promise.resolve().then(() => new KuboTarget({ apiUrl: 'localhost:5001' }))))).toMatchObject({ code: 'BAD_INPUT' });
  });

  it('refuses a gateway that answers with a page instead of a raw block', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>a directory listing</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await errorOf(new GatewayFetcher(url).get(root.cid));
      expect(error.code).toBe('NETWORK_ERROR');
      expect(error.message).toMatch(/does not support trustless requests/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is a node that never touched the network: not started, no libp2p, only loopback connections', () => {
    expect(node.helia.status).toBe('stopped');
    expect(() => (node.helia as unknown as { libp2p: unknown }).libp2p).toThrow();
    expect(connectedHosts.length).toBeGreaterThan(0);
    expect([...new Set(connectedHosts)]).toEqual(['127.0.0.1']);
    expect(udpSockets).toEqual([]);
  });
});
