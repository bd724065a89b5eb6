import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tempDir';

const STORE_MODULE = fileURLToPath(new URL('../../src-main/core/vault/localBlockStore.ts', import.meta.url));
const FORMAT_MODULE = fileURLToPath(new URL('../../src-main/core/vault/snapshotFormat.ts', import.meta.url));

/** One system call as strace printed it, with "<unfinished ...>" and "<... resumed>" joined. */
interface Call {
  name: string;
  text: string;
}

function parseStrace(log: string): Call[] {
  const pending = new Map<string, string>();
  const calls: Call[] = [];
  for (const line of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m as unknown as [string, string, string];
    const unfinished = /^(.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      pending.set(pid, unfinished[1]!);
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    const text = resumed ? `${pending.get(pid) ?? `${resumed[1]}(`}${resumed[2]}` : rest;
    const name = /^(\w+)\(/.exec(text)?.[1];
    if (name) calls.push({ name, text });
  }
  return calls;
}

/** Runs a module script under strace (opens, fsyncs, renames; `extra` calls too): the block names it printed last, and the calls. */
function straceScript(script: string, log: string, extra: string[] = []): { names: string[]; calls: Call[] } {
  if (spawnSync('strace', ['-V'], { encoding: 'utf8' }).error) throw new Error('This test watches system calls with strace: install it (apt-get install strace).');
  const traced = ['openat', 'open', 'fsync', 'fdatasync', 'rename', 'renameat', 'renameat2', ...extra].join(',');
  const run = spawnSync(
    'strace',
    ['-f', '-qq', '-o', log, '-e', `trace=${traced}`, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) },
  );
  expect(run.status, run.stderr).toBe(0);
  return { names: JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[], calls: parseStrace(readFileSync(log, 'utf8')) };
}

/**
 * The local block store's durability, seen in the system calls it makes (strace): each block's
 * bytes are flushed (fsync) before its temp file is renamed to the block's name, and sync()
 * flushes every folder a block was renamed into, and the store's folder that gained new
 * fan-out folders, so a snapshot recorded after sync() names only blocks that survive a power cut.
 */
describe('the local block store is durable before a snapshot is recorded', () => {
  it('fsyncs each block before its rename, and each folder after the renames', () => {
    const dir = tempDir('hearth-durable-');
    try {
      const blocksDir = join(dir.path, 'blocks');
      const log = join(dir.path, 'strace.log');
      const script = `
        const { LocalBlockStore } = await import(${JSON.stringify(pathToFileURL(STORE_MODULE).href)});
        const { rawBlock } = await import(${JSON.stringify(pathToFileURL(FORMAT_MODULE).href)});
        const store = new LocalBlockStore(${JSON.stringify(blocksDir)});
        const names = [];
        for (let i = 0; i < 6; i++) {
          const block = await rawBlock(new TextEncoder().encode('block ' + i));
          await store.put(block);
          names.push(block.cid.toString());
        }
        await store.sync();
        console.log(JSON.stringify(names));`;
      const { names, calls } = straceScript(script, log);

      // Which path each descriptor named when it was fsynced.
      const fdPath = new Map<string, string>();
      const synced: { path: string; at: number }[] = [];
      const renamed = new Map<string, number>();
      calls.forEach((call, at) => {
        if (call.name === 'openat' || call.name === 'open') {
          const opened = /"([^"]+)".*= (\d+)$/.exec(call.text);
          if (opened) fdPath.set(opened[2]!, opened[1]!);
        } else if (call.name === 'fsync' || call.name === 'fdatasync') {
          const fd = /^\w+\((\d+)/.exec(call.text)?.[1];
          const path = fd === undefined ? undefined : fdPath.get(fd);
          if (path) synced.push({ path, at });
        } else if (call.name.startsWith('rename')) {
          const to = [...call.text.matchAll(/"([^"]+)"/g)].map((m) => m[1]!).at(-1);
          if (to) renamed.set(to, at);
        }
      });
      expect(names).toHaveLength(6);
      let lastRename = 0;
      const fanOuts = new Set<string>();
      for (const name of names) {
        const path = join(blocksDir, name.slice(-2), name);
        const renameAt = renamed.get(path);
        expect(renameAt, `${name} renamed into place`).toBeDefined();
        const tempSynced = synced.find((s) => s.path.startsWith(`${path}.`) && s.path.endsWith('.tmp'));
        expect(tempSynced, `${name}'s temp file fsynced`).toBeDefined();
        expect(tempSynced!.at).toBeLessThan(renameAt!);
        lastRename = Math.max(lastRename, renameAt!);
        fanOuts.add(join(blocksDir, name.slice(-2)));
      }
      for (const folder of [...fanOuts, blocksDir]) {
        expect(synced.some((s) => s.path === folder && s.at > lastRename), `${folder} fsynced after the renames`).toBe(true);
      }
    } finally {
      dir.cleanup();
    }
  });
});

const TEST_CORE_MODULE = fileURLToPath(new URL('../support/testCore.ts', import.meta.url));

/**
 * A snapshot published to a folder in the same command, keepModelBlocks off (SnapshotTee): the
 * CAR is flushed before it is renamed to <root>.car, the folder after the rename, and all of it
 * before the snapshot is recorded (no write to vault.db from the CAR's first byte until the
 * folder's flush; the record after it); the blocks kept here are flushed before the record too;
 * the model chunks the folder alone holds are never written into vault/blocks.
 */
describe('a snapshot published as it is sealed is durable in the folder before it is recorded', () => {
  it('fsyncs the CAR before its rename, the folder after, both before the record; model chunks never touch vault/blocks', () => {
    const dir = tempDir('hearth-durable-tee-');
    try {
      const usb = join(dir.path, 'usb');
      const log = join(dir.path, 'strace.log');
      const script = `
        const { mkdirSync, writeFileSync } = await import('node:fs');
        const { randomBytes } = await import('node:crypto');
        const { join } = await import('node:path');
        const { createTestCore } = await import(${JSON.stringify(pathToFileURL(TEST_CORE_MODULE).href)});
        const { core, dataDir } = createTestCore({ vault: { scryptN: 1 << 10 } });
        await core.vault.create({ passphrase: 'a long passphrase' });
        mkdirSync(join(dataDir, 'models'), { recursive: true });
        writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(6 * 1024 * 1024));
        mkdirSync(${JSON.stringify(usb)});
        const target = await core.vault.addTarget({ kind: 'folder', path: ${JSON.stringify(usb)} });
        core.vault.setSchedule({ keepModelBlocks: false });
        const snapshot = await core.vault.snapshotAndPublish({ includeModels: true, includeDocuments: false }, target.id);
        const repo = core.vault['repo'];
        const remote = [...repo.remoteBlocks()];
        const here = repo.snapshotBlocks(snapshot.cid).filter((cid) => !remote.includes(cid));
        await core.dispose();
        console.log(JSON.stringify([dataDir, snapshot.cid, JSON.stringify(remote), JSON.stringify(here)]));`;
      const { names, calls } = straceScript(script, log, ['pwrite64', 'write']);
      const [dataDir, root, remoteJson, hereJson] = names as [string, string, string, string];
      const remote = JSON.parse(remoteJson) as string[];
      const here = JSON.parse(hereJson) as string[];
      const blocksDir = join(dataDir, 'vault', 'blocks');
      const carsDir = join(usb, 'hearth-vault', 'cars');
      const carPath = join(carsDir, `${root}.car`);

      const fdPath = new Map<string, string>();
      const synced: { path: string; at: number }[] = [];
      const renamed = new Map<string, { from: string; at: number }>();
      const opened: string[] = [];
      const wrote: { path: string; at: number }[] = [];
      calls.forEach((call, at) => {
        if (call.name === 'openat' || call.name === 'open') {
          const match = /"([^"]+)".*= (\d+)$/.exec(call.text);
          if (match) {
            fdPath.set(match[2]!, match[1]!);
            opened.push(match[1]!);
          }
        } else if (call.name === 'fsync' || call.name === 'fdatasync') {
          const path = fdPath.get(/^\w+\((\d+)/.exec(call.text)?.[1] ?? '');
          if (path) synced.push({ path, at });
        } else if (call.name.startsWith('rename')) {
          const paths = [...call.text.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
          if (paths.length >= 2) renamed.set(paths.at(-1)!, { from: paths[0]!, at });
        } else if (call.name === 'pwrite64' || call.name === 'write') {
          const path = fdPath.get(/^\w+\((\d+)/.exec(call.text)?.[1] ?? '');
          if (path) wrote.push({ path, at });
        }
      });

      // The CAR: written under a temp name, flushed, renamed to <root>.car, then its folder flushed.
      const carRename = renamed.get(carPath);
      expect(carRename, 'the CAR renamed into place').toBeDefined();
      expect(carRename!.from).toMatch(/\.incoming$/);
      const carSynced = synced.find((s) => s.path === carRename!.from);
      expect(carSynced, 'the CAR fsynced').toBeDefined();
      expect(carSynced!.at).toBeLessThan(carRename!.at);
      const folderSynced = synced.find((s) => s.path === carsDir && s.at > carRename!.at);
      expect(folderSynced, 'the cars folder fsynced after the rename').toBeDefined();

      // Nothing written to vault.db from the CAR's first byte until the folder's flush; the record after it.
      const isVaultDb = (path: string) => path.startsWith(join(dataDir, 'vault', 'vault.db'));
      const firstCarWrite = wrote.find((w) => w.path === carRename!.from);
      expect(firstCarWrite, 'blocks written into the CAR').toBeDefined();
      const between = wrote.filter((w) => isVaultDb(w.path) && w.at > firstCarWrite!.at && w.at < folderSynced!.at);
      expect(between, 'vault.db written while the CAR was not yet durable').toEqual([]);
      const record = wrote.find((w) => isVaultDb(w.path) && w.at > folderSynced!.at);
      expect(record, 'the snapshot recorded after the CAR is durable').toBeDefined();

      // The model chunks the folder alone holds never touch vault/blocks; those kept here are flushed, with their folders, before the record.
      expect(remote.length).toBeGreaterThanOrEqual(3);
      for (const cid of remote) expect(opened.filter((path) => path.includes(cid)), cid).toEqual([]);
      expect(here.length).toBeGreaterThan(0);
      for (const cid of here) {
        const path = join(blocksDir, cid.slice(-2), cid);
        const rename = renamed.get(path);
        expect(rename, `${cid} renamed into place`).toBeDefined();
        expect(synced.some((s) => s.path === rename!.from && s.at < rename!.at), `${cid} fsynced before its rename`).toBe(true);
        expect(synced.some((s) => s.path === join(blocksDir, cid.slice(-2)) && s.at > rename!.at && s.at < record!.at), `${cid}'s folder fsynced before the record`).toBe(true);
      }
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});

const RESTORED_BLOCKS_MODULE = fileURLToPath(new URL('../../src-main/core/vault/restoredBlocks.ts', import.meta.url));

/**
 * The blocks a restore keeps for the new directory's vault are written without a flush each (the
 * staging folder is read by nobody) and made durable together by flush(), which the restore
 * calls before it saves progress naming them and before the folder moves into place.
 */
describe('the blocks a restore keeps are durable before flush() returns', () => {
  it('fsyncs every block file and its folder before flush() returns, and rewrites a block an earlier run left', () => {
    const dir = tempDir('hearth-durable-restore-');
    try {
      const blocksDir = join(dir.path, 'blocks');
      const marker = join(dir.path, 'flush-returned');
      const log = join(dir.path, 'strace.log');
      const script = `
        const { mkdirSync, openSync, closeSync, writeFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const { RestoredBlocks } = await import(${JSON.stringify(pathToFileURL(RESTORED_BLOCKS_MODULE).href)});
        const { rawBlock } = await import(${JSON.stringify(pathToFileURL(FORMAT_MODULE).href)});
        const blocks = [];
        for (let i = 0; i < 6; i++) blocks.push(await rawBlock(new TextEncoder().encode('restored block ' + i)));
        // An earlier, interrupted run left a torn copy of the first block under its name.
        const first = blocks[0].cid.toString();
        mkdirSync(join(${JSON.stringify(blocksDir)}, first.slice(-2)), { recursive: true });
        writeFileSync(join(${JSON.stringify(blocksDir)}, first.slice(-2), first), 'torn');
        const kept = new RestoredBlocks(${JSON.stringify(blocksDir)});
        for (const block of blocks) await kept.put(block);
        await kept.put(blocks[1]);
        await kept.flush();
        closeSync(openSync(${JSON.stringify(marker)}, 'w'));
        console.log(JSON.stringify(blocks.map((b) => b.cid.toString())));`;
      const { names, calls } = straceScript(script, log);

      const fdPath = new Map<string, string>();
      const synced: { path: string; at: number }[] = [];
      const renamed = new Map<string, number[]>();
      let markerAt = -1;
      calls.forEach((call, at) => {
        if (call.name === 'openat' || call.name === 'open') {
          const opened = /"([^"]+)".*= (\d+)$/.exec(call.text);
          if (opened) fdPath.set(opened[2]!, opened[1]!);
          if (opened?.[1] === marker) markerAt = at;
        } else if (call.name === 'fsync' || call.name === 'fdatasync') {
          const fd = /^\w+\((\d+)/.exec(call.text)?.[1];
          const path = fd === undefined ? undefined : fdPath.get(fd);
          if (path) synced.push({ path, at });
        } else if (call.name.startsWith('rename')) {
          const to = [...call.text.matchAll(/"([^"]+)"/g)].map((m) => m[1]!).at(-1);
          if (to) renamed.set(to, [...(renamed.get(to) ?? []), at]);
        }
      });
      expect(markerAt).toBeGreaterThan(0);
      expect(names).toHaveLength(6);
      const fanOuts = new Set<string>();
      for (const [i, name] of names.entries()) {
        const path = join(blocksDir, name.slice(-2), name);
        const renames = renamed.get(path) ?? [];
        // Written once each, the torn one included; a second put of the same block writes nothing.
        expect(renames, `${name} renamed into place once`).toHaveLength(1);
        expect(readFileSync(path, 'utf8')).toBe(`restored block ${i}`);
        expect(statSync(path).mode & 0o777, `${name} private`).toBe(0o600);
        expect(synced.some((s) => s.path === path && s.at > renames[0]! && s.at < markerAt), `${name} fsynced before flush() returned`).toBe(true);
        fanOuts.add(join(blocksDir, name.slice(-2)));
      }
      for (const folder of fanOuts) {
        const lastRename = Math.max(...names.filter((n) => folder.endsWith(n.slice(-2))).map((n) => renamed.get(join(folder, n))![0]!));
        expect(synced.some((s) => s.path === folder && s.at > lastRename && s.at < markerAt), `${folder} fsynced after its renames, before flush() returned`).toBe(true);
      }
    } finally {
      dir.cleanup();
    }
  });
});
