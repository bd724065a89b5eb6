import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultTargetKind } from '#contract/dto';
import type { ErrorCode } from '#contract/errors';
import { isAbortError } from '../../src-main/core/common/hearthError';
import { latestFromPointer, writeLatestPointer } from '../../src-main/core/vault/latestPointer';
import { targetConfigSchema, type TargetConfig } from '../../src-main/core/vault/targets/targetConfig';
import { capabilitiesOf, openTarget, targetLocation, type TargetEnv } from '../../src-main/core/vault/targets/targetRegistry';
import type { Block, CarFile, PublishTarget } from '../../src-main/core/vault/types';
import { carOf, errorOf, listBlock, randomBlocks, rawBlock, sameBytes, slowly } from './carBlocks';
import { tempDir } from './tempDir';

/** A target of one kind, set up for the contract: created, saved as the vault saves it. */
export interface TargetFixture {
  /** What the vault saved when the target was added (through the registry's create). */
  config: TargetConfig;
  env: TargetEnv;
  /** Where publish() says a CAR went. */
  location(car: CarFile): string;
  /** Part of what the target's fetcher says it reads from. */
  fetcherDescription: string;
  /** The same kind of target, its place gone (a drive unplugged, a service down), and how it says so. */
  unreachable(): Promise<{ target: PublishTarget; code: ErrorCode; mentions: string }>;
  cleanup?(): Promise<void>;
}

const BAD_POINTER_NAMES = ['short', '../../etc/passwd', 'UPPERCASE1', 'a'.repeat(65), 'no/slash'];
const ISO_DATE = /^\d{4}-\d\d-\d\dT/;

/**
 * The one behaviour every publish target owes the vault, run against each kind (as restic's
 * backend test suite is against each backend). The target is opened through the registry from
 * its saved config, as the vault opens it. A capability the registry says the kind lacks is
 * checked too: its methods reject with UNSUPPORTED, and the vault's own paths say why.
 */
export function describeTargetContract(kind: VaultTargetKind, make: () => Promise<TargetFixture>): void {
  describe(`${kind} target: the publish-target contract`, () => {
    const capabilities = capabilitiesOf(kind);
    const work = tempDir(`hearth-contract-${kind}-`);
    let fixture: TargetFixture;
    let target: PublishTarget;
    let first: { car: CarFile; root: Block; blocks: Block[] };

    /** A CAR of fresh random blocks, unlike any published before. */
    const freshCar = async (name: string, sizes: number[]) => {
      const blocks = await randomBlocks(sizes);
      return { ...(await carOf(work.path, name, blocks)), blocks };
    };

    beforeAll(async () => {
      fixture = await make();
      target = await openTarget(fixture.config, fixture.env);
    }, 120_000);

    afterAll(async () => {
      await fixture?.cleanup?.();
      work.cleanup();
    });

    it('is opened by the registry from its saved config, which reads back as it was saved', () => {
      expect(target.kind).toBe(kind);
      expect(fixture.config.kind).toBe(kind);
      expect(targetConfigSchema.parse(JSON.parse(JSON.stringify(fixture.config)))).toEqual(fixture.config);
      expect(targetLocation(fixture.config)).not.toBe('');
      expect(Object.values(capabilities).every((value) => typeof value === 'boolean')).toBe(true);
    });

    it('publishes a CAR with progress, and serves every block back byte for byte', async () => {
      first = await freshCar('first.car', Array.from({ length: 30 }, () => Math.floor(Math.random() * 200 * 1024)));
      const progress: Array<[number, number]> = [];
      const result = await target.publish(first.car, { onProgress: (sent, total) => progress.push([sent, total]) });
      expect(result.location).toBe(fixture.location(first.car));
      expect(progress[0]).toEqual([0, first.car.size]);
      expect(progress.at(-1)).toEqual([first.car.size, first.car.size]);
      expect(progress.every(([sent], i) => i === 0 || sent >= progress[i - 1]![0])).toBe(true);

      const fetcher = target.fetcher();
      expect(fetcher.description).toContain(fixture.fetcherDescription);
      for (const block of [first.root, ...first.blocks]) expect(sameBytes(await fetcher.get(block.cid), block.bytes)).toBe(true);
    });

    it(capabilities.listUploads ? 'lists what it holds by root, with the time it arrived' : 'refuses to list what it holds (UNSUPPORTED)', async () => {
      if (capabilities.listUploads) {
        const uploads = await target.listUploads();
        expect(uploads.map((u) => u.root)).toEqual([first.root.cid.toString()]);
        expect(uploads[0]?.at).toMatch(ISO_DATE);
      } else {
        expect((await errorOf(target.listUploads())).code).toBe('UNSUPPORTED');
      }
    });

    it('answers NOT_FOUND for a block it does not hold, naming the block', async () => {
      const absent = await rawBlock(new Uint8Array(randomBytes(64)));
      const missing = await errorOf(target.fetcher().get(absent.cid));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.message).toContain(absent.cid.toString());
    });

    it('serves what was published after its fetcher was made, and again when opened anew from its saved config', async () => {
      const fetcher = target.fetcher();
      await fetcher.get(first.root.cid);
      const later = await freshCar('later.car', [1234, 5678]);
      await target.publish(later.car);
      expect(sameBytes(await fetcher.get(later.blocks[1]!.cid), later.blocks[1]!.bytes)).toBe(true);

      const reopened = await openTarget(fixture.config, fixture.env);
      const again = reopened.fetcher();
      for (const block of [first.root, first.blocks[7]!, later.root, later.blocks[0]!]) expect(sameBytes(await again.get(block.cid), block.bytes)).toBe(true);
      if (capabilities.listUploads) {
        const roots = (await reopened.listUploads()).map((u) => u.root);
        expect(roots).toEqual(expect.arrayContaining([first.root.cid.toString(), later.root.cid.toString()]));
      }
    });

    it('takes the same CAR twice: publishing again is not an error, and loses nothing', async () => {
      await target.publish(first.car);
      expect(sameBytes(await target.fetcher().get(first.blocks[3]!.cid), first.blocks[3]!.bytes)).toBe(true);
    });

    it(capabilities.streamsCar ? 'takes a CAR as a stream of blocks, with progress; a cancelled stream holds none of it' : 'takes no stream (UNSUPPORTED): the vault hands it a CAR file', async () => {
      const blocks = await randomBlocks(Array.from({ length: 12 }, () => 40 * 1024 + Math.floor(Math.random() * 100 * 1024)));
      const root = await listBlock(blocks);
      const totalBytes = [root, ...blocks].reduce((sum, b) => sum + b.bytes.length, 0);
      if (!capabilities.streamsCar) {
        expect((await errorOf(target.publishStream(root.cid, slowly([root, ...blocks]), { totalBytes }))).code).toBe('UNSUPPORTED');
        return;
      }
      const progress: Array<[number, number]> = [];
      const result = await target.publishStream(root.cid, slowly([root, ...blocks]), { totalBytes, onProgress: (sent, total) => progress.push([sent, total]) });
      expect(result.carBytes).toBeGreaterThan(totalBytes);
      expect(progress[0]).toEqual([0, totalBytes]);
      expect(progress.at(-1)).toEqual([totalBytes, totalBytes]);
      const fetcher = (await openTarget(fixture.config, fixture.env)).fetcher();
      for (const block of [root, ...blocks]) expect(sameBytes(await fetcher.get(block.cid), block.bytes)).toBe(true);
      if (capabilities.listUploads) expect((await target.listUploads()).map((u) => u.root)).toContain(root.cid.toString());

      const cancelledBlocks = await randomBlocks([300 * 1024, 300 * 1024, 300 * 1024]);
      const cancelledRoot = await listBlock(cancelledBlocks);
      const controller = new AbortController();
      const stream = slowly([cancelledRoot, ...cancelledBlocks]);
      const error = await errorOf(target.publishStream(cancelledRoot.cid, stream, { signal: controller.signal, onProgress: (sent) => sent > 0 && controller.abort() }));
      expect(error.code).toBe('CANCELLED');
      expect((await errorOf((await openTarget(fixture.config, fixture.env)).fetcher().get(cancelledRoot.cid))).code).toBe('NOT_FOUND');
      if (capabilities.listUploads) expect((await target.listUploads()).map((u) => u.root)).not.toContain(cancelledRoot.cid.toString());
    });

    if (capabilities.latestPointer) {
      it('keeps the latest-snapshot pointer: absent, written, replaced, read back; bad names refused', async () => {
        const name = `contract${randomBytes(4).toString('hex')}`;
        expect(await target.readPointer(name)).toBeNull();
        await target.writePointer(name, new TextEncoder().encode('a fairly long first record'));
        expect(new TextDecoder().decode((await target.readPointer(name))!)).toBe('a fairly long first record');
        await target.writePointer(name, new TextEncoder().encode('short'));
        expect(new TextDecoder().decode((await target.readPointer(name))!)).toBe('short');
        for (const bad of BAD_POINTER_NAMES) {
          expect((await errorOf(target.writePointer(bad, new Uint8Array(1)))).code).toBe('BAD_INPUT');
          expect((await errorOf(target.readPointer(bad))).code).toBe('BAD_INPUT');
        }
      });

      it('replaces the record only while it is the one the writer read (expected), else BUSY', async () => {
        const name = `compare${randomBytes(4).toString('hex')}`;
        const text = (t: string) => new TextEncoder().encode(t);
        await target.writePointer(name, text('one'), { expected: null });
        expect((await errorOf(target.writePointer(name, text('two'), { expected: null }))).code).toBe('BUSY');
        await target.writePointer(name, text('two'), { expected: text('one') });
        expect((await errorOf(target.writePointer(name, text('three'), { expected: text('one') }))).code).toBe('BUSY');
        expect(new TextDecoder().decode((await target.readPointer(name))!)).toBe('two');
      });

      it("finds the wallet's latest snapshot from the signed pointer alone", async () => {
        const wallet = Wallet.createRandom();
        expect((await errorOf(latestFromPointer(target, wallet))).code).toBe('NOT_FOUND');
        await writeLatestPointer(target, wallet, { root: first.root.cid.toString(), sequence: 1 });
        expect(await latestFromPointer(await openTarget(fixture.config, fixture.env), wallet)).toBe(first.root.cid.toString());
      });
    } else {
      it('keeps no latest-snapshot pointer: the pointer calls are UNSUPPORTED, and a restore asks for the CID', async () => {
        expect((await errorOf(target.readPointer('latest0001'))).code).toBe('UNSUPPORTED');
        expect((await errorOf(target.writePointer('latest0001', new Uint8Array(1)))).code).toBe('UNSUPPORTED');
        const asked = await errorOf(latestFromPointer(target, Wallet.createRandom()));
        expect(asked.code).toBe('BAD_INPUT');
        expect(asked.message).toMatch(/give the snapshot CID/);
      });
    }

    it('stops a publish when its signal aborts, and holds none of it', async () => {
      const cancelled = await freshCar('cancelled.car', Array.from({ length: 8 }, () => 256 * 1024));
      const controller = new AbortController();
      const error = await errorOf(target.publish(cancelled.car, { signal: controller.signal, onProgress: () => controller.abort() }));
      expect(error.code).toBe('CANCELLED');
      expect(isAbortError(error)).toBe(true);
      expect((await errorOf(target.fetcher().get(cancelled.root.cid))).code).toBe('NOT_FOUND');
      if (capabilities.listUploads) expect((await target.listUploads()).map((u) => u.root)).not.toContain(cancelled.root.cid.toString());
    });

    it('says so, with a coded error naming the place, when its place is gone', async () => {
      const { target: gone, code, mentions } = await fixture.unreachable();
      const attempts: Array<() => Promise<unknown>> = [() => gone.publish(first.car), () => gone.fetcher().get(first.root.cid)];
      if (capabilities.latestPointer) attempts.push(() => gone.readPointer('latest0001'));
      if (capabilities.streamsCar) attempts.push(() => gone.publishStream(first.root.cid, slowly([first.root])));
      if (capabilities.listUploads) attempts.push(() => gone.listUploads());
      // Thunks: each attempt starts only when awaited, so none rejects unobserved.
      for (const attempt of attempts) {
        const error = await errorOf(attempt());
        expect(error.code, error.message).toBe(code);
        expect(error.message).toContain(mentions);
      }
    });
  });
}
