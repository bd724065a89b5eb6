import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../../src-main/core/ports/secretStore';
import { derivationsWaiting } from '../../../src-main/core/vault/nativeKdf';
import { startKeystoreKdf, WalletIdentity } from '../../../src-main/core/vault/walletIdentity';
import { tempDir } from '../../support/tempDir';

/** A low cost keeps the test fast; the mechanism is the same at the keystore's 2^17. */
const N = 1 << 12;
const PHRASE = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/**
 * A vault command starts the keystore's scrypt as soon as it has the passphrase
 * (startKeystoreKdf), and the unlock or the keystore's creation that follows takes that
 * derivation instead of starting its own: same KDF and cost, only earlier.
 */
describe('the keystore scrypt started ahead', () => {
  const dir = tempDir('hearth-kdf-ahead-');
  afterAll(() => dir.cleanup());
  const identity = (name: string) => {
    const path = join(dir.path, name, 'keystore.json');
    return { path, wallet: new WalletIdentity(path, new FileSecretStore(join(dir.path, name)), N) };
  };
  const saltOf = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { Crypto: { kdfparams: { salt: string } } }).Crypto.kdfparams.salt;

  it('a keystore made after a start ahead uses its fresh salt, and unlocks anywhere with the passphrase alone', async () => {
    const made = identity('made');
    startKeystoreKdf(made.path, 'pass one', N);
    expect(derivationsWaiting()).toBe(1);
    const address = await made.wallet.import(PHRASE, 'pass one');
    expect(derivationsWaiting()).toBe(0);
    expect(address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    // A second keystore for the same passphrase gets a salt of its own: a salt is never used twice.
    const other = identity('other');
    startKeystoreKdf(other.path, 'pass one', N);
    await other.wallet.import(PHRASE, 'pass one');
    expect(saltOf(other.path)).not.toBe(saltOf(made.path));
    // Unlocked by a fresh identity with nothing started ahead: the keystore is an ordinary one.
    const fresh = new WalletIdentity(made.path, new FileSecretStore(join(dir.path, 'made')), N);
    expect(await fresh.unlock('pass one')).toBe(address);
  });

  it('an unlock takes the derivation started for its keystore and passphrase; a wrong passphrase is still refused', async () => {
    const { path } = identity('made');
    startKeystoreKdf(path, 'pass one', N);
    expect(derivationsWaiting()).toBe(1);
    const unlocking = new WalletIdentity(path, new FileSecretStore(join(dir.path, 'made')), N);
    expect(await unlocking.unlock('pass one')).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    expect(derivationsWaiting()).toBe(0);

    // Started for one passphrase, the unlock is tried with another: nothing is taken, the wrong one fails as before.
    startKeystoreKdf(path, 'pass one', N);
    await expect(new WalletIdentity(path, new FileSecretStore(join(dir.path, 'made')), N).unlock('pass two')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(derivationsWaiting()).toBe(1);
    // Started with a wrong passphrase, the unlock with that passphrase fails with WRONG_PASSPHRASE, not otherwise.
    startKeystoreKdf(path, 'pass two', N);
    await expect(new WalletIdentity(path, new FileSecretStore(join(dir.path, 'made')), N).unlock('pass two')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(derivationsWaiting()).toBe(1);
  });

  it('a keystore that is not one (a folder, not JSON, another KDF) starts nothing', () => {
    const before = derivationsWaiting();
    startKeystoreKdf(join(dir.path, 'made'), 'pass one', N); // a folder, not a file
    mkdirSync(join(dir.path, 'bad'));
    for (const text of ['not json', JSON.stringify({ crypto: { kdf: 'pbkdf2', kdfparams: { salt: 'aa', c: 262144, dklen: 32, prf: 'hmac-sha256' } } })]) {
      writeFileSync(join(dir.path, 'bad', 'keystore.json'), text);
      startKeystoreKdf(join(dir.path, 'bad', 'keystore.json'), 'pass one', N);
    }
    expect(derivationsWaiting()).toBe(before);
  });
});
