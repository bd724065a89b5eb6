import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { HostSecretStore } from '../../src-main/core/ports/secretServiceStore';
import { FileSecretStore } from '../../src-main/core/ports/secretStore';
import { VAULT_PASSPHRASE_SECRET } from '../../src-main/core/vault/walletIdentity';
import { assertKeyringTools, PrivateKeyring } from '../support/privateKeyring';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';

const PASSPHRASE = 'a passphrase only the keyring may hold';

/** Every file under dir, relative. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The server/CLI core over dataDir, its secrets in the host's store for env (as src-main/cli/openCore.ts builds it). */
function hostCore(dataDir: string, env: NodeJS.ProcessEnv): Core {
  return createCore(
    { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false }, vault: { scryptN: 1 << 12 } },
    { logger: createConsoleLogger('error'), secrets: new HostSecretStore(dataDir, env) },
  );
}

/** The passphrase's item, looked up by secret-tool itself. */
function lookup(keyring: PrivateKeyring, dataDir: string): string | null {
  return keyring.secretTool(['lookup', 'application', 'hearth', 'data-dir', dataDir, 'secret', VAULT_PASSPHRASE_SECRET]);
}

/** "Remember" on a Linux server with a real Secret Service (gnome-keyring on a private session bus). */
describe('the Secret Service as the server and CLI secret store', { timeout: 30_000 }, () => {
  const cores: Core[] = [];
  const dirs: { path: string; cleanup: () => void }[] = [];
  const keyrings: PrivateKeyring[] = [];

  const open = (dataDir: string, env: NodeJS.ProcessEnv): Core => {
    const core = hostCore(dataDir, env);
    cores.push(core);
    return core;
  };
  const dataDir = (): string => {
    const dir = tempDir('hearth-secret-service-');
    dirs.push(dir);
    return dir.path;
  };
  const bus = (): PrivateKeyring => {
    const keyring = new PrivateKeyring();
    keyrings.push(keyring);
    return keyring;
  };

  beforeAll(() => {
    // Missing tools fail the suite, naming the packages: never a silent skip.
    assertKeyringTools();
  });
  afterEach(async () => {
    for (const core of cores.splice(0)) await core.dispose();
  });
  afterAll(async () => {
    for (const keyring of keyrings.splice(0)) await keyring.stop();
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  it('an unlocked keyring holds the remembered passphrase, and nothing recoverable lands in the data directory', async () => {
    const keyring = bus();
    await keyring.startKeyring('login password');
    const dir = dataDir();
    const core = open(dir, keyring.env);
    await core.vault.create({ passphrase: PASSPHRASE, remember: true });

    expect(await core.vault.status()).toMatchObject({ state: 'unlocked', remembered: true, rememberKeptIn: 'keychain' });
    // secret-tool, on its own, finds the passphrase under this data directory's attributes.
    expect(lookup(keyring, dir)).toBe(PASSPHRASE);
    // No secrets file, no key file, and no file under the data directory holds the passphrase.
    const files = walk(dir);
    expect(files.filter((f) => /secret/.test(f))).toEqual([]);
    expect(await new FileSecretStore(dir).get(VAULT_PASSPHRASE_SECRET)).toBeNull();
    const needle = Buffer.from(PASSPHRASE);
    expect(files.filter((f) => readFileSync(join(dir, f)).includes(needle))).toEqual([]);
    // The availability probe leaves no item behind.
    expect(keyring.secretTool(['lookup', 'application', 'hearth', 'probe', 'availability'])).toBeNull();
    await core.dispose();
    cores.splice(cores.indexOf(core), 1);

    // The next process (the server restarting) unlocks at start from the keyring.
    const again = open(dir, keyring.env);
    await again.vault.start();
    expect(await again.vault.status()).toMatchObject({ state: 'unlocked', remembered: true, rememberKeptIn: 'keychain' });

    // Lock forgets it, in the keyring too.
    await again.vault.lock();
    expect(lookup(keyring, dir)).toBeNull();
    expect(await again.vault.status()).toMatchObject({ state: 'locked', remembered: false, rememberKeptIn: 'keychain' });

    // unlock --remember stores it again; unlock without remember leaves it; remember false clears it.
    await again.vault.unlock({ passphrase: PASSPHRASE, remember: true });
    expect(lookup(keyring, dir)).toBe(PASSPHRASE);
    await again.vault.lock();
    await again.vault.unlock({ passphrase: PASSPHRASE, remember: false });
    expect(lookup(keyring, dir)).toBeNull();
    expect(walk(dir).filter((f) => /secret/.test(f))).toEqual([]);
  });

  it('a passphrase remembered in the data directory earlier moves to the keyring when next written', async () => {
    const keyring = bus();
    await keyring.startKeyring('login password');
    const dir = dataDir();
    await new FileSecretStore(dir).set(VAULT_PASSPHRASE_SECRET, 'from before');
    const store = new HostSecretStore(dir, keyring.env);
    expect(await store.get(VAULT_PASSPHRASE_SECRET)).toBe('from before');
    await store.set(VAULT_PASSPHRASE_SECRET, PASSPHRASE);
    expect(lookup(keyring, dir)).toBe(PASSPHRASE);
    expect(await new FileSecretStore(dir).get(VAULT_PASSPHRASE_SECRET)).toBeNull();
  });

  it('a locked keyring falls back to the data directory, and the status says so', async () => {
    const keyring = bus();
    await keyring.startKeyring('login password');
    keyring.lockLogin();
    const dir = dataDir();
    const core = open(dir, keyring.env);
    await core.vault.create({ passphrase: PASSPHRASE, remember: true });
    expect(await core.vault.status()).toMatchObject({ state: 'unlocked', remembered: true, rememberKeptIn: 'dataDir' });
    expect(await new FileSecretStore(dir).get(VAULT_PASSPHRASE_SECRET)).toBe(PASSPHRASE);
    expect(walk(dir)).toEqual(expect.arrayContaining(['secrets.json', 'secret.key']));
  });

  it('a session bus with no Secret Service on it falls back to the data directory', async () => {
    const keyring = bus();
    const dir = dataDir();
    const core = open(dir, keyring.env);
    await core.vault.create({ passphrase: PASSPHRASE, remember: true });
    expect(await core.vault.status()).toMatchObject({ remembered: true, rememberKeptIn: 'dataDir' });
    expect(await new FileSecretStore(dir).get(VAULT_PASSPHRASE_SECRET)).toBe(PASSPHRASE);
  });
});
