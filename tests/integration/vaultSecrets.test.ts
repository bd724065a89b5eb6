import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';

const SECRET_FILES = ['secrets.json', 'secret.key', 'secrets.os.json'];

/** Every file under dir, relative, '/'-separated. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
}

/** A passphrase remembered on a host without a keychain: said so, and never copied by a snapshot. */
describe('vault: secrets on a host without a keychain', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  const docs = tempDir('hearth-vault-secrets-docs-');
  const scratch = tempDir('hearth-vault-secrets-');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = await createLibraryCore({ vault: { scryptN: 1 << 12 } }));
    phrase = (await core.vault.create({ passphrase: 'a long passphrase', remember: true })).phrase;
  });
  afterAll(async () => {
    await cleanup?.();
    docs.cleanup();
    scratch.cleanup();
  });

  it('says that "remember" keeps the passphrase recoverably in the data directory', async () => {
    const status = await core.vault.status();
    expect(status).toMatchObject({ remembered: true, rememberKeptIn: 'dataDir' });
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['secrets.json', 'secret.key']));
  });

  it('a snapshot with documents never holds the key file or the secrets, even when a source includes them', async () => {
    writeFileSync(join(docs.path, 'notes.md'), '# Notes\n\nA document that belongs in the snapshot.\n');
    await indexPath(core, docs.path);
    // A source that reaches into the data directory: the library indexes secrets.json (it is JSON text).
    await indexPath(core, join(dataDir, 'secrets.json'), 'Careless');
    const indexed = core.library.indexedFiles().map((d) => d.path);
    expect(indexed).toContain(join(dataDir, 'secrets.json'));

    const snapshot = await core.vault.snapshot({ includeModels: false, includeDocuments: true });
    const into = join(scratch.path, 'restored');
    mkdirSync(scratch.path, { recursive: true });
    const restored = await restoreSnapshot({
      wallet: walletFromPhrase(phrase),
      root: snapshot.cid,
      fetcher: new LocalBlockStore(join(dataDir, 'vault', 'blocks')),
      dataDir: into,
      keepBlocks: true,
    });
    const paths = restored.manifest.files.map((f) => f.path);
    // The document outside the data directory is there; nothing from inside it but what Hearth captures by name.
    expect(paths.some((p) => p.startsWith('sources/') && p.endsWith('/notes.md'))).toBe(true);
    expect(paths.filter((p) => SECRET_FILES.some((name) => p.endsWith(name)))).toEqual([]);
    expect(walk(into).filter((p) => SECRET_FILES.some((name) => p.endsWith(name)))).toEqual([]);
    expect(walk(into)).not.toContain('vault/keystore.json');
  });
});
