/**
 * bench:vault — snapshot and restore throughput against raw AEAD encryption of the same bytes,
 * in the same process and run.
 *
 * Data: a data directory like a heavy user's (tests/support/vaultData: 8000 chat messages,
 * their full-text index, a copied model) plus a file of random bytes standing in for model
 * weights (--mb, default 256), all included in the snapshot.
 * Snapshot: the real path (SQLite online backup, content-defined chunking, keyed chunk ids,
 * padding, XChaCha20-Poly1305 per chunk, sha256 CIDs, blocks written to the local store,
 * signed manifest). Reported as plaintext MB/s.
 * Baseline: the very files the snapshot captured (read back from the restored copy), read in
 * 1 MiB pieces and sealed with XChaCha20-Poly1305 from @noble/ciphers, nothing else. The ratio
 * snapshot MB/s ÷ raw MB/s is the share of bare encryption speed the snapshot keeps.
 * Also: an unchanged second snapshot, packing + publishing the CAR to a folder, and restore
 * (fetch, verify every CID, open, check the keyed hash, write, sha256 every file, count rows)
 * from the local block store and from the folder's CAR.
 *
 *   npm run bench:vault -- [--mb N]
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { restoreSnapshot } from '../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../src-main/core/vault/targets/folderTarget';
import { walletFromPhrase } from '../src-main/core/vault/walletIdentity';
import { createTestCore } from '../tests/support/testCore';
import { tempDir } from '../tests/support/tempDir';
import { readTreeFiles, seedUserData } from '../tests/support/vaultData';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '256' } } });
const weightsMb = Number(values.mb);

const test = createTestCore({ vault: { scryptN: 1 << 14 } });
const { core, dataDir } = test;
const scratch = tempDir('hearth-bench-vault-');
await seedUserData(core);
mkdirSync(join(dataDir, 'models'), { recursive: true });
const weights = join(dataDir, 'models', 'bench-weights.bin');
{
  const piece = 16 * 1024 * 1024;
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const fd = openSync(weights, 'w');
  for (let written = 0; written < weightsMb * 1024 * 1024; written += piece) writeSync(fd, randomBytes(Math.min(piece, weightsMb * 1024 * 1024 - written)));
  closeSync(fd);
}
const { phrase } = await core.vault.create({ passphrase: 'bench passphrase' });
const seconds = (start: number) => (performance.now() - start) / 1000;

let start = performance.now();
const first = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
const snapshotSeconds = seconds(start);

start = performance.now();
const second = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
const secondSeconds = seconds(start);

const usb = join(scratch.path, 'usb');
mkdirSync(usb);
const target = await core.vault.addTarget({ kind: 'folder', path: usb });
start = performance.now();
const published = await core.vault.publish(first.cid, target.id);
const publishSeconds = seconds(start);
const carBytes = published.publications[0]!.carBytes;

const wallet = walletFromPhrase(phrase);
start = performance.now();
const fromStore = await restoreSnapshot({ wallet, root: first.cid, fetcher: core.vault['blocks'], dataDir: join(scratch.path, 'restored-local') });
const restoreLocalSeconds = seconds(start);
start = performance.now();
await restoreSnapshot({ wallet, root: first.cid, fetcher: new FolderTarget(usb).fetcher(), dataDir: join(scratch.path, 'restored-car') });
const restoreCarSeconds = seconds(start);

// Baseline: the same plaintext bytes (the restored copy of what was captured), sealed in 1 MiB pieces.
const key = randomBytes(32);
let rawBytes = 0;
start = performance.now();
for (const file of readTreeFiles(join(scratch.path, 'restored-local'))) {
  for await (const piece of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    const nonce = randomBytes(24);
    xchacha20poly1305(key, nonce).encrypt(piece as Buffer);
    rawBytes += (piece as Buffer).length;
  }
}
const rawSeconds = seconds(start);

const mb = (bytes: number) => bytes / 1e6;
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  data: { files: first.files, megabytes: mb(first.bytes), weightsMegabytes: weightsMb },
  snapshot: { seconds: snapshotSeconds, megabytesPerSecond: mb(first.bytes) / snapshotSeconds, storedMegabytes: mb(first.storedBytes) },
  rawAead: { seconds: rawSeconds, megabytes: mb(rawBytes), megabytesPerSecond: mb(rawBytes) / rawSeconds },
  ratio: { snapshotOverRawAead: mb(first.bytes) / snapshotSeconds / (mb(rawBytes) / rawSeconds) },
  unchangedSecondSnapshot: { seconds: secondSeconds, newMegabytes: mb(second.newBytes) },
  publishToFolder: { seconds: publishSeconds, carMegabytes: mb(carBytes), megabytesPerSecond: mb(carBytes) / publishSeconds },
  restore: {
    fromLocalStore: { seconds: restoreLocalSeconds, megabytesPerSecond: mb(fromStore.bytes) / restoreLocalSeconds },
    fromFolderCar: { seconds: restoreCarSeconds, megabytesPerSecond: mb(fromStore.bytes) / restoreCarSeconds },
    overRawAead: mb(fromStore.bytes) / restoreLocalSeconds / (mb(rawBytes) / rawSeconds),
  },
};

await test.cleanup();
scratch.cleanup();

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log(`bench:vault on ${result.machine.cpu} (${result.machine.cores} cores), Node ${process.version}`);
console.log(`data: ${result.data.files} files, ${fmt(result.data.megabytes)} MB (${weightsMb} MB of random model weights)`);
console.log(`snapshot:        ${fmt(result.snapshot.megabytesPerSecond)} MB/s (${fmt(snapshotSeconds, 2)} s; ${fmt(result.snapshot.storedMegabytes)} MB sealed)`);
console.log(`raw AEAD:        ${fmt(result.rawAead.megabytesPerSecond)} MB/s (read + XChaCha20-Poly1305 of the same ${fmt(result.rawAead.megabytes)} MB)`);
console.log(`ratio snapshot/raw: ${fmt(result.ratio.snapshotOverRawAead, 3)}`);
console.log(`unchanged 2nd snapshot: ${fmt(secondSeconds, 2)} s, ${fmt(result.unchangedSecondSnapshot.newMegabytes, 3)} MB new`);
console.log(`publish (CAR to a folder): ${fmt(result.publishToFolder.megabytesPerSecond)} MB/s (${fmt(result.publishToFolder.carMegabytes)} MB)`);
console.log(`restore from the local store: ${fmt(result.restore.fromLocalStore.megabytesPerSecond)} MB/s; from the folder's CAR: ${fmt(result.restore.fromFolderCar.megabytesPerSecond)} MB/s`);
console.log(`ratio restore/raw: ${fmt(result.restore.overRawAead, 3)}`);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const out = join(import.meta.dirname, 'results', `vault-${result.date.replace(/:/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${out}`);
