import { pbkdf2, scrypt } from 'ethers';
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useNativeKdf } from '../../../src-main/core/vault/nativeKdf';
import { walletFromPhrase } from '../../../src-main/core/vault/walletIdentity';

const bytes = (text: string) => new TextEncoder().encode(text);

describe("ethers' key derivations on Node's crypto", () => {
  it('scrypt gives the bytes of ethers’ own implementation, at the keystore cost too', async () => {
    useNativeKdf();
    for (const [N, r, p] of [[1024, 8, 1], [1 << 12, 8, 1], [16, 1, 3]] as const) {
      const salt = bytes(`salt ${N}`);
      const native = await scrypt(bytes('correct horse'), salt, N, r, p, 64);
      const pureJs = await scrypt._(bytes('correct horse'), salt, N, r, p, 64, () => undefined);
      expect(native).toBe(`0x${Buffer.from(pureJs).toString('hex')}`);
    }
    // The keystore's cost (2^17) needs 128 MiB, past Node's default limit of 32 MiB.
    const keystoreCost = await scrypt(bytes('correct horse'), bytes('salt'), 1 << 17, 8, 1, 32);
    expect(keystoreCost).toBe(`0x${scryptSync('correct horse', 'salt', 32, { N: 1 << 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }).toString('hex')}`);
  });

  it('PBKDF2 gives the bytes of ethers’ own implementation, and the phrase gives the same wallet', () => {
    useNativeKdf();
    for (const algo of ['sha256', 'sha512'] as const) {
      const native = pbkdf2(bytes('pw'), bytes('salt'), 2048, 64, algo);
      expect(native).toBe(`0x${Buffer.from(pbkdf2._(bytes('pw'), bytes('salt'), 2048, 64, algo)).toString('hex')}`);
    }
    // The all-zero-entropy phrase: its m/44'/60'/0'/0/0 address is a widely published test value.
    const wallet = walletFromPhrase('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
    expect(wallet.address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
  });
});
