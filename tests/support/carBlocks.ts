import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { expect } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { writeCar } from '../../src-main/core/vault/carFile';
import type { Block, CarFile } from '../../src-main/core/vault/types';

/** Blocks and CAR files shaped like the vault's, for the target and CAR tests. */

export async function rawBlock(bytes: Uint8Array): Promise<Block> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes };
}

export async function randomBlocks(sizes: number[]): Promise<Block[]> {
  return Promise.all(sizes.map((size) => rawBlock(new Uint8Array(randomBytes(size)))));
}

/** A dag-cbor list of the blocks' CIDs, like the vault's list blocks: the root of a complete DAG. */
export async function listBlock(blocks: Block[]): Promise<Block> {
  const bytes = dagCbor.encode(blocks.map((b) => b.cid));
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes };
}

export async function* slowly(blocks: Block[]): AsyncGenerator<Block> {
  for (const block of blocks) {
    await new Promise((resolve) => setImmediate(resolve));
    yield block;
  }
}

/** A CAR of `blocks` under a list root that links them all. */
export async function carOf(dir: string, name: string, blocks: Block[]): Promise<{ car: CarFile; root: Block }> {
  const root = await listBlock(blocks);
  const car = await writeCar(join(dir, name), root.cid, slowly([root, ...blocks]));
  return { car, root };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** The HearthError a promise rejects with (the test fails if it resolves or throws anything else). */
export async function errorOf(promise: Promise<unknown>): Promise<HearthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return error as HearthError;
  }
  throw new Error('expected the promise to reject');
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** A port nothing listens on: opened, noted, closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
