import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkLedgerView } from '#contract/dto';
import { assertBuilt, runHearth } from '../support/server';
import { startIpfsNode, type IpfsNode } from '../support/ipfsNode';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';

/**
 * `hearth network` (the built app) on what a session sent to an IPFS node on 127.0.0.1, and the
 * CLI's restore, which runs without a core: its requests land in the restored directory's ledger.
 */
describe('hearth network and the CLI restore (built app, a real IPFS node on 127.0.0.1)', () => {
  const dir = tempDir('hearth-cli-network-');
  let ipfs: IpfsNode;
  const cleanups: (() => Promise<void>)[] = [];
  const env = () => ({ ...process.env, HEARTH_LOG: 'error' });

  beforeAll(async () => {
    assertBuilt();
    ipfs = await startIpfsNode();
  });

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await ipfs.close();
    dir.cleanup();
  });

  it('lists the publish to the node as local, and the restore from it in the new directory', async () => {
    const test = createTestCore({ vault: { scryptN: 2 ** 10 } });
    cleanups.push(test.cleanup);
    const host = new URL(ipfs.apiUrl).host;
    let cid: string;
    let phrase: string;
    try {
      const { core } = test;
      ({ phrase } = await core.vault.create({ passphrase: 'ledger passphrase' }));
      const target = await core.vault.addTarget({ kind: 'kubo', apiUrl: ipfs.apiUrl });
      const snapshot = await core.vault.startSnapshot({});
      expect((await core.jobs.wait(snapshot.id)).status).toBe('completed');
      cid = core.vault.snapshots()[0]!.cid;
      const publish = await core.vault.startPublish({ cid, targetId: target.id });
      expect((await core.jobs.wait(publish.id)).status).toBe('completed');
    } finally {
      await test.core.dispose();
    }

    const shown = await runHearth(['network', '--data-dir', test.dataDir], env());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Nothing has left this machine');
    expect(shown.stdout).toMatch(new RegExp(`${host} \\(local\\)\\s+vault-publish`));

    const phraseFile = join(dir.path, 'phrase.txt');
    writeFileSync(phraseFile, phrase, { mode: 0o600 });
    const restored = join(dir.path, 'restored');
    const restore = await runHearth(['vault', 'restore', '--data-dir', restored, '--kubo', ipfs.apiUrl, '--cid', cid, '--phrase-file', phraseFile], env());
    expect(restore.code, restore.stderr).toBe(0);
    const json = await runHearth(['network', '--json', '--data-dir', restored], env());
    const view = JSON.parse(json.stdout) as NetworkLedgerView;
    expect(view.requests.length).toBeGreaterThan(0);
    expect(new Set(view.requests.map((r) => `${r.host} ${r.purpose} ${r.local}`))).toEqual(new Set([`${host} vault-restore true`]));
    expect(view.remote.requests).toBe(0);
  });
});
