import { pbkdf2Sync, scrypt as nodeScrypt } from 'node:crypto';
import { pbkdf2, scrypt } from 'ethers';

let registered = false;

/**
 * Points ethers' key derivations at OpenSSL's (Node's crypto) instead of its pure-JavaScript
 * ones: the keystore's scrypt (run on every unlock: about a third faster, and off the main
 * thread) and the recovery phrase's PBKDF2. Same parameters, same bytes. Idempotent.
 */
export function useNativeKdf(): void {
  if (registered) return;
  registered = true;
  // ethers' own implementations, kept for a runtime whose crypto refuses the parameters
  // (Electron's BoringSSL is not OpenSSL): the same bytes, only slower.
  const pureScrypt = scrypt._;
  const purePbkdf2 = pbkdf2._;
  scrypt.register(
    (password, salt, N, r, p, dkLen, progress) =>
      new Promise<Uint8Array>((resolve) => {
        // scrypt needs 128·N·r bytes; Node refuses more than maxmem (32 MiB by default).
        const maxmem = 128 * N * r * Math.max(p, 1) + 64 * 1024 * 1024;
        nodeScrypt(password, salt, dkLen, { N, r, p, maxmem }, (error, key) =>
          resolve(error ? pureScrypt(password, salt, N, r, p, dkLen, progress) : new Uint8Array(key)),
        );
      }),
  );
  pbkdf2.register((password, salt, iterations, keylen, algo) => {
    try {
      return pbkdf2Sync(password, salt, iterations, keylen, algo);
    } catch {
      return purePbkdf2(password, salt, iterations, keylen, algo);
    }
  });
}
