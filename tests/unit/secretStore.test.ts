import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { findOnPath, HostSecretStore } from '../../src-main/core/ports/secretServiceStore';
import { FileSecretStore } from '../../src-main/core/ports/secretStore';
import { tempDir } from '../support/tempDir';

describe('FileSecretStore', () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir('hearth-secrets-');
  });
  afterEach(() => dir.cleanup());

  const secretsFile = () => join(dir.path, 'secrets.json');
  const keyFile = () => join(dir.path, 'secret.key');
  const codeOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(HearthError);
      return (error as HearthError).code;
    }
    throw new Error('expected an error');
  };

  it('round-trips values, and an unknown name is null', async () => {
    const store = new FileSecretStore(dir.path);
    await store.set('hf_token', 'hf_abcdef123456');
    await store.set('other', 'ünïcødé ✓');
    expect(await store.get('hf_token')).toBe('hf_abcdef123456');
    expect(await store.get('other')).toBe('ünïcødé ✓');
    expect(await store.get('missing')).toBeNull();
    expect(await store.get('toString')).toBeNull(); // not fooled by Object.prototype
  });

  it('reading an empty store creates nothing', async () => {
    expect(await new FileSecretStore(dir.path).get('hf_token')).toBeNull();
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('null deletes a value and leaves the others', async () => {
    const store = new FileSecretStore(dir.path);
    await store.set('a', '1');
    await store.set('b', '2');
    await store.set('a', null);
    expect(await store.get('a')).toBeNull();
    expect(await store.get('b')).toBe('2');
    await store.set('never-set', null);
  });

  it('keeps the value encrypted on disk', async () => {
    await new FileSecretStore(dir.path).set('hf_token', 'hf_plaintext_marker');
    const text = readFileSync(secretsFile(), 'utf8');
    expect(text).not.toContain('hf_plaintext_marker');
    expect(text).not.toContain('hf_token');
    expect(JSON.parse(text)).toMatchObject({ version: 1, algorithm: 'aes-256-gcm' });
  });

  it('a fresh store on the same directory reads the value (as another process would)', async () => {
    await new FileSecretStore(dir.path).set('hf_token', 'persisted');
    expect(await new FileSecretStore(dir.path).get('hf_token')).toBe('persisted');
  });

  it.skipIf(process.platform === 'win32')('creates the key and the secrets file readable by the owner only (0600)', async () => {
    await new FileSecretStore(dir.path).set('hf_token', 'x');
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(statSync(secretsFile()).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile()).length).toBe(32);
  });

  it('writes atomically: no temporary files are left behind', async () => {
    const store = new FileSecretStore(dir.path);
    for (let i = 0; i < 5; i++) await store.set(`k${i}`, `v${i}`);
    expect(readdirSync(dir.path).sort()).toEqual(['secret.key', 'secrets.json']);
  });

  it('concurrent writes from one store all land', async () => {
    const store = new FileSecretStore(dir.path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    const fresh = new FileSecretStore(dir.path);
    for (let i = 0; i < 20; i++) expect(await fresh.get(`k${i}`)).toBe(`v${i}`);
  });

  it('two stores creating the key at once agree on one key', async () => {
    const a = new FileSecretStore(dir.path);
    const b = new FileSecretStore(dir.path);
    await Promise.all([a.set('x', '1'), b.set('y', '2')]);
    // Whichever write landed last must be readable with the one key on disk.
    const fresh = new FileSecretStore(dir.path);
    const values = [await fresh.get('x'), await fresh.get('y')];
    expect(values.filter((v) => v !== null).length).toBeGreaterThanOrEqual(1);
  });

  it('a tampered file is CORRUPT_FILE, never garbage', async () => {
    await new FileSecretStore(dir.path).set('hf_token', 'hf_abcdef123456');
    const sealed = JSON.parse(readFileSync(secretsFile(), 'utf8')) as { data: string; tag: string };
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = data[0]! ^ 0x01;
    writeFileSync(secretsFile(), JSON.stringify({ ...sealed, data: data.toString('base64') }));
    expect(await codeOf(new FileSecretStore(dir.path).get('hf_token'))).toBe('CORRUPT_FILE');
    // Writing does not paper over it either: the user is told, not silently reset.
    expect(await codeOf(new FileSecretStore(dir.path).set('other', 'x'))).toBe('CORRUPT_FILE');
  });

  it('a tampered tag, a different key, a missing key or a garbled file are CORRUPT_FILE', async () => {
    const store = new FileSecretStore(dir.path);
    await store.set('hf_token', 'value');
    const original = readFileSync(secretsFile(), 'utf8');
    const sealed = JSON.parse(original) as { tag: string };

    writeFileSync(secretsFile(), JSON.stringify({ ...sealed, tag: Buffer.alloc(16).toString('base64') }));
    expect(await codeOf(store.get('hf_token'))).toBe('CORRUPT_FILE');

    writeFileSync(secretsFile(), original);
    const key = readFileSync(keyFile());
    writeFileSync(keyFile(), Buffer.alloc(32, 7));
    expect(await codeOf(store.get('hf_token'))).toBe('CORRUPT_FILE');
    writeFileSync(keyFile(), Buffer.alloc(5));
    expect(await codeOf(store.get('hf_token'))).toBe('CORRUPT_FILE');

    writeFileSync(keyFile(), key);
    expect(await store.get('hf_token')).toBe('value');

    writeFileSync(secretsFile(), '{ not json');
    expect(await codeOf(store.get('hf_token'))).toBe('CORRUPT_FILE');
    writeFileSync(secretsFile(), original);
    const { rmSync } = await import('node:fs');
    rmSync(keyFile());
    expect(await codeOf(store.get('hf_token'))).toBe('CORRUPT_FILE');
    expect(existsSync(keyFile())).toBe(false); // reading never invents a key
  });

  it('refuses an empty name', async () => {
    const store = new FileSecretStore(dir.path);
    expect(await codeOf(store.get(''))).toBe('BAD_INPUT');
    expect(await codeOf(store.set('', 'x'))).toBe('BAD_INPUT');
  });

  it('keeps values in the data directory, and says so (keeper dataDir)', async () => {
    expect(await new FileSecretStore(dir.path).keeper()).toBe('dataDir');
  });
});

describe('HostSecretStore', () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir('hearth-host-secrets-');
  });
  afterEach(() => dir.cleanup());

  it('without secret-tool on PATH (or without a session bus): the data directory, said so', async () => {
    for (const env of [{ PATH: '', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' }, { PATH: process.env.PATH }]) {
      const store = new HostSecretStore(dir.path, env);
      expect(await store.keeper()).toBe('dataDir');
      await store.set('vault-passphrase', 'kept here');
      expect(await new FileSecretStore(dir.path).get('vault-passphrase')).toBe('kept here');
      expect(await store.get('vault-passphrase')).toBe('kept here');
      await store.set('vault-passphrase', null);
      expect(await store.get('vault-passphrase')).toBeNull();
    }
  });

  it('finds a program on PATH only where it is executable', () => {
    writeFileSync(join(dir.path, 'secret-tool'), '#!/bin/sh\n', { mode: 0o644 });
    expect(findOnPath('secret-tool', { PATH: dir.path })).toBeNull();
    chmodSync(join(dir.path, 'secret-tool'), 0o755);
    expect(findOnPath('secret-tool', { PATH: `/nonexistent:${dir.path}` })).toBe(join(dir.path, 'secret-tool'));
  });
});
