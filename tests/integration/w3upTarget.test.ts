import { createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CarWriter } from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createTarget, openTarget, type TargetEnv } from '../../src-main/core/vault/targets/targetRegistry';
import { W3upTarget } from '../../src-main/core/vault/targets/w3upTarget';
import type { CarFile } from '../../src-main/core/vault/types';
import { closedPort } from '../support/carBlocks';
import { describeTargetContract } from '../support/targetContract';
import { tempDir } from '../support/tempDir';
import { startW3upService, type W3upService } from '../support/w3upService';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return { code: (error as HearthError).code, message: (error as HearthError).message };
  }
  throw new Error('expected an error');
}

/** A snapshot-shaped CAR: raw blocks and a dag-cbor root linking them. */
async function writeCar(path: string, seed: number): Promise<CarFile & { blocks: { cid: CID; bytes: Uint8Array }[] }> {
  const blocks: { cid: CID; bytes: Uint8Array }[] = [];
  for (let i = 0; i < 4; i++) {
    const bytes = new Uint8Array(50_000 + i * 1000).map((_, j) => (j * 31 + i * 7 + seed) & 0xff);
    blocks.push({ cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes });
  }
  const rootBytes = dagCbor.encode({ format: 'test', seed, blocks: blocks.map((block) => block.cid) });
  const root = CID.createV1(dagCbor.code, await sha256.digest(rootBytes));
  const { writer, out } = CarWriter.create([root]);
  const written = pipeline(Readable.from(out), createWriteStream(path));
  await writer.put({ cid: root, bytes: rootBytes });
  for (const block of blocks) await writer.put(block);
  await writer.close();
  await written;
  return { path, root, size: (await stat(path)).size, blocks: [{ cid: root, bytes: rootBytes }, ...blocks] };
}

// One local service for the file: the contract's target and the client's own tests use separate accounts.
let service: W3upService;
const dir = tempDir('hearth-w3up-');

beforeAll(async () => {
  service = await startW3upService();
});

afterAll(async () => {
  await service?.close();
  dir.cleanup();
});

/** The local service in every role: upload service, receipts, and the gateway's part for `space/content/serve`. */
const serviceOptions = () => ({
  serviceUrl: service.url,
  serviceDid: service.did,
  receiptsEndpoint: service.receiptsEndpoint,
  gatewayUrl: service.gatewayUrl,
  gatewayDid: service.did,
});

describeTargetContract('w3up', async () => {
  const env: TargetEnv = { w3up: { stateDir: join(dir.path, 'contract'), ...serviceOptions() } };
  const email = 'dana@example.com';
  // Adding a web3.storage target signs in: it resolves once the emailed link is confirmed.
  const [{ config }] = await Promise.all([createTarget({ kind: 'w3up', email, space: 'contract' }, env), service.confirmLogin(email)]);
  return {
    config,
    env,
    location: () => (config.kind === 'w3up' ? config.space : ''),
    fetcherDescription: service.gatewayUrl,
    unreachable: async () => {
      // The same agent and space, its service gone: nothing answers at that port any more.
      const url = `http://127.0.0.1:${await closedPort()}`;
      const moved = await openTarget(config, { w3up: { stateDir: env.w3up.stateDir, serviceUrl: url, serviceDid: service.did, gatewayUrl: url } });
      return { target: moved, code: 'NETWORK_ERROR', mentions: url };
    },
  };
});

describe('W3upTarget against a local w3up service', () => {
  const stateDir = join(dir.path, 'state');
  const email = 'alice@example.com';
  let target: W3upTarget;
  let spaceDid: string;

  const openClient = (): Promise<W3upTarget> => W3upTarget.open({ stateDir, ...serviceOptions() });

  beforeAll(async () => {
    target = await openClient();
  });

  it('signs in once the emailed link is confirmed', async () => {
    expect(target.accounts()).toEqual([]);
    await Promise.all([target.login(email), service.confirmLogin(email)]);
    expect(target.accounts()).toEqual([`did:mailto:example.com:alice`]);
  });

  it('creates a space provisioned with the account and selects it', async () => {
    spaceDid = await target.createSpace('hearth-vault');
    expect(spaceDid).toMatch(/^did:key:/);
    expect(target.spaces()).toEqual([{ did: spaceDid, name: 'hearth-vault' }]);
    expect(target.currentSpace()).toBe(spaceDid);
    // The service now bills the space to the account: that is what lets uploads in.
    const consumer = await service.context.provisionsStorage.getConsumer(service.did as `did:web:${string}`, spaceDid as `did:key:${string}`);
    expect(consumer.ok?.customer).toBe('did:mailto:example.com:alice');
  });

  it('publishes a CAR file into the space: the service records the upload', async () => {
    const car = await writeCar(join(dir.path, 'snapshot.car'), 1);
    const result = await target.publish(car);
    expect(result.location).toBe(spaceDid);
    // The service really holds it: the upload table and the stored shard.
    expect(await service.context.uploadTable.exists(spaceDid as `did:key:${string}`, car.root)).toEqual({ ok: true });
    expect((await target.listUploads()).map((upload) => upload.root)).toEqual([car.root.toString()]);
  });

  it('keeps its agent state in stateDir: a re-opened target sees the account, the space and the uploads', async () => {
    const reopened = await openClient();
    expect(reopened.agentDid()).toBe(target.agentDid());
    expect(reopened.accounts()).toEqual(['did:mailto:example.com:alice']);
    expect(reopened.spaces()).toEqual([{ did: spaceDid, name: 'hearth-vault' }]);
    expect(reopened.currentSpace()).toBe(spaceDid);

    const car = await writeCar(join(dir.path, 'second.car'), 2);
    await reopened.publish(car);
    const roots = (await reopened.listUploads()).map((upload) => upload.root).sort();
    expect(roots).toHaveLength(2);
    expect(roots).toContain(car.root.toString());

    // One file, private to the user, no temp files left behind.
    expect(await readdir(stateDir)).toEqual(['agent.json']);
    const mode = (await stat(join(stateDir, 'agent.json'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('refuses to create a space before signing in', async () => {
    const fresh = await W3upTarget.open({ stateDir: join(dir.path, 'fresh'), serviceUrl: service.url, serviceDid: service.did });
    expect((await codeOf(fresh.createSpace('x'))).code).toBe('UNAUTHORIZED');
    expect((await codeOf(fresh.publish(await writeCar(join(dir.path, 'third.car'), 3)))).code).toBe('BAD_INPUT');
    expect((await codeOf(fresh.useSpace(spaceDid))).code).toBe('NOT_FOUND');
    expect((await codeOf(fresh.login('not-an-email'))).code).toBe('BAD_INPUT');
  });

  it('reports NETWORK_ERROR when the service cannot be reached', async () => {
    // A port that was just listening and is now closed: nothing answers there.
    const url = `http://127.0.0.1:${await closedPort()}`;
    const offline = await W3upTarget.open({ stateDir: join(dir.path, 'offline'), serviceUrl: url, serviceDid: service.did });
    const error = await codeOf(offline.login('bob@example.com'));
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.message).toContain(url);

    // A signed-in agent whose service went away still knows its space (publishing and listing
    // then fail the same way: the contract checks that for every target).
    const moved = await W3upTarget.open({ stateDir, serviceUrl: url, serviceDid: service.did });
    expect(moved.currentSpace()).toBe(spaceDid);
  });

  it('can be cancelled while waiting for the email confirmation', async () => {
    const waiting = await W3upTarget.open({ stateDir: join(dir.path, 'waiting'), serviceUrl: service.url, serviceDid: service.did });
    const controller = new AbortController();
    const login = waiting.login('carol@example.com', { signal: controller.signal });
    setTimeout(() => controller.abort(), 500);
    expect((await codeOf(login)).code).toBe('CANCELLED');
  });
});
