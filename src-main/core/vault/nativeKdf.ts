import { pbkdf2Sync, scrypt as nodeScrypt, timingSafeEqual } from 'node:crypto';
import { pbkdf2, scrypt } from 'ethers';

let registered = false;

/** A scrypt started before ethers asked for it (deriveAhead), waiting to be picked up once. */
interface Ahead {
  password: Uint8Array;
  salt: Uint8Array;
  N: number;
  r: number;
  p: number;
  dkLen: number;
  key: Promise<Uint8Array | null>;
}

/** Derivations started ahead; a few at most (a command starts one), each taken once. */
const ahead: Ahead[] = [];
const AHEAD_MAX = 4;

/** scrypt needs 128·N·r bytes; Node refuses more than maxmem (32 MiB by default). */
const maxmemFor = (N: number, r: number, p: number) => 128 * N * r * Math.max(p, 1) + 64 * 1024 * 1024;

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
  scrypt.register((password, salt, N, r, p, dkLen, progress) => {
    const compute = () =>
      new Promise<Uint8Array>((resolve) => {
        nodeScrypt(password, salt, dkLen, { N, r, p, maxmem: maxmemFor(N, r, p) }, (error, key) =>
          resolve(error ? pureScrypt(password, salt, N, r, p, dkLen, progress) : new Uint8Array(key)),
        );
      });
    const started = takeAhead({ password, salt, N, r, p, dkLen });
    return started ? started.then((key) => key ?? compute()) : compute();
  });
  pbkdf2.register((password, salt, iterations, keylen, algo) => {
    try {
      return pbkdf2Sync(password, salt, iterations, keylen, algo);
    } catch {
      return purePbkdf2(password, salt, iterations, keylen, algo);
    }
  });
}

/**
 * Starts a scrypt on the thread pool now, for the keystore unlock (or creation) that will ask
 * for exactly this derivation later: a command starts it as soon as it has the passphrase, so
 * the ~0.5 s of scrypt (N = 2^17) runs while the command loads and opens its data directory.
 * The same derivation, the same parameters: only its start moves. Taken once; an entry never
 * asked for is dropped when more are started.
 */
export function deriveAhead(input: Omit<Ahead, 'key'>): void {
  useNativeKdf();
  const { password, salt, N, r, p, dkLen } = input;
  const key = new Promise<Uint8Array | null>((resolve) => {
    try {
      nodeScrypt(password, salt, dkLen, { N, r, p, maxmem: maxmemFor(N, r, p) }, (error, derived) => resolve(error ? null : new Uint8Array(derived)));
    } catch {
      resolve(null); // parameters Node refuses: ethers derives it itself when asked
    }
  });
  ahead.push({ password: Uint8Array.from(password), salt: Uint8Array.from(salt), N, r, p, dkLen, key });
  if (ahead.length > AHEAD_MAX) ahead.shift();
}

/** The salt of a derivation started ahead for this password and cost (for a keystore being made), or null. */
export function saltAhead(password: Uint8Array, N: number, r: number, p: number, dkLen: number): Uint8Array | null {
  const found = ahead.find((a) => a.N === N && a.r === r && a.p === p && a.dkLen === dkLen && same(a.password, password));
  return found ? Uint8Array.from(found.salt) : null;
}

/** How many derivations started ahead are still waiting to be taken (each is taken by the unlock or creation it was started for). */
export function derivationsWaiting(): number {
  return ahead.length;
}

function takeAhead(input: Omit<Ahead, 'key'>): Promise<Uint8Array | null> | null {
  const index = ahead.findIndex(
    (a) => a.N === input.N && a.r === input.r && a.p === input.p && a.dkLen === input.dkLen && same(a.salt, input.salt) && same(a.password, input.password),
  );
  if (index < 0) return null;
  const [found] = ahead.splice(index, 1);
  return found!.key;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
