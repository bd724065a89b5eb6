import { Mnemonic, Wallet, encryptKeystoreJson, getAddress, type HDNodeWallet } from 'ethers';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile';
import type { VaultState } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import type { SecretStore } from '../ports/secretStore';
import { deriveAhead, saltAhead, useNativeKdf } from './nativeKdf';

/** The secret store's name for a remembered vault passphrase. */
export const VAULT_PASSPHRASE_SECRET = 'vault.passphrase';

export type IdentityState = VaultState;

/** ethers' keystore scrypt: N = 2^17 unless a test lowers it, r = 8, p = 1, 64 bytes derived (key, MAC key, phrase key). */
const DEFAULT_SCRYPT_N = 1 << 17;
const KEYSTORE_R = 8;
const KEYSTORE_P = 1;
const KEYSTORE_DERIVED_BYTES = 64;

/** The passphrase as ethers hashes it (NFKC, UTF-8). */
const passwordBytes = (passphrase: string) => Buffer.from(passphrase.normalize('NFKC'), 'utf8');

/**
 * The vault's wallet: an Ethereum HD wallet from a BIP-39 phrase. The key is stored only as
 * an encrypted keystore (scrypt + AES-128-CTR + MAC, the Web3 Secret Storage format ethers
 * writes, which also keeps the phrase, encrypted), unlocked by a passphrase. The unlocked
 * wallet lives in memory until lock() or the process ends. Remembering puts the passphrase in
 * the host's secret store (Electron safeStorage on the desktop), a convenience the user opts into.
 */
export class WalletIdentity {
  private unlocked: HDNodeWallet | null = null;
  private cachedAddress: string | null | undefined;

  constructor(
    private readonly keystorePath: string,
    private readonly secrets: SecretStore,
    /** scrypt cost; tests lower it, everyone else keeps ethers' default (2^17). */
    private readonly scryptN?: number,
  ) {
    useNativeKdf();
  }

  async state(): Promise<IdentityState> {
    if (this.unlocked) return 'unlocked';
    return (await this.address()) ? 'locked' : 'none';
  }

  /** The keystore's address, readable without the passphrase. */
  async address(): Promise<string | null> {
    if (this.unlocked) return this.unlocked.address;
    if (this.cachedAddress !== undefined) return this.cachedAddress;
    const json = await this.readKeystore();
    this.cachedAddress = json ? addressOf(json) : null;
    return this.cachedAddress;
  }

  async remembered(): Promise<boolean> {
    return (await this.secrets.get(VAULT_PASSPHRASE_SECRET)) !== null;
  }

  async create(passphrase: string, remember = false): Promise<{ address: string; phrase: string }> {
    const wallet = Wallet.createRandom();
    await this.save(wallet, passphrase, remember);
    return { address: wallet.address, phrase: wallet.mnemonic!.phrase };
  }

  async import(phrase: string, passphrase: string, remember = false): Promise<string> {
    const wallet = walletFromPhrase(phrase);
    await this.save(wallet, passphrase, remember);
    return wallet.address;
  }

  async unlock(passphrase: string, remember?: boolean): Promise<string> {
    const wallet = await this.decrypt(passphrase);
    this.unlocked = wallet;
    if (remember === true) await this.secrets.set(VAULT_PASSPHRASE_SECRET, passphrase);
    if (remember === false) await this.secrets.set(VAULT_PASSPHRASE_SECRET, null);
    return wallet.address;
  }

  /** At start: unlocks with a remembered passphrase, if one is kept and still right. */
  async unlockRemembered(): Promise<boolean> {
    const passphrase = await this.secrets.get(VAULT_PASSPHRASE_SECRET);
    if (passphrase === null || (await this.state()) !== 'locked') return false;
    try {
      await this.unlock(passphrase);
      return true;
    } catch {
      return false;
    }
  }

  async lock(): Promise<void> {
    this.unlocked = null;
    await this.secrets.set(VAULT_PASSPHRASE_SECRET, null);
  }

  async revealPhrase(passphrase: string): Promise<string> {
    const wallet = await this.decrypt(passphrase);
    return wallet.mnemonic!.phrase;
  }

  /** The unlocked wallet; VAULT_LOCKED or VAULT_NOT_SET_UP otherwise. */
  async wallet(): Promise<HDNodeWallet> {
    if (this.unlocked) return this.unlocked;
    if ((await this.state()) === 'none') {
      throw new HearthError('VAULT_NOT_SET_UP', 'There is no wallet yet: create one, or import your recovery phrase.');
    }
    throw new HearthError('VAULT_LOCKED', 'The vault is locked: unlock it with your passphrase first.');
  }

  private async decrypt(passphrase: string): Promise<HDNodeWallet> {
    const json = await this.readKeystore();
    if (!json) throw new HearthError('VAULT_NOT_SET_UP', 'There is no wallet yet: create one, or import your recovery phrase.');
    let wallet: Wallet | HDNodeWallet;
    try {
      wallet = await Wallet.fromEncryptedJson(json, passphrase);
    } catch (error) {
      if ((error as { code?: string }).code === 'INVALID_ARGUMENT' && /password/i.test((error as Error).message)) {
        throw new HearthError('WRONG_PASSPHRASE', 'That passphrase does not unlock this wallet.');
      }
      throw new HearthError('CORRUPT_FILE', `${this.keystorePath} is damaged and cannot be read; restore it from your recovery phrase (import).`, { cause: error });
    }
    if (!('mnemonic' in wallet) || !wallet.mnemonic) {
      throw new HearthError('CORRUPT_FILE', `${this.keystorePath} holds a key without its recovery phrase; import the phrase again.`);
    }
    return wallet;
  }

  private async save(wallet: HDNodeWallet, passphrase: string, remember: boolean): Promise<void> {
    if (await this.readKeystore()) {
      throw new HearthError(
        'BAD_INPUT',
        `A wallet already exists in ${this.keystorePath}. Hearth keeps one wallet per data directory; use another data directory for another wallet.`,
      );
    }
    const account = {
      address: wallet.address,
      privateKey: wallet.privateKey,
      mnemonic: { entropy: wallet.mnemonic!.entropy, path: wallet.path ?? undefined, locale: 'en' },
    };
    const N = this.scryptN ?? DEFAULT_SCRYPT_N;
    // A derivation started ahead for this passphrase (startKeystoreKdf) brings its fresh salt; otherwise ethers draws one.
    const salt = saltAhead(passwordBytes(passphrase), N, KEYSTORE_R, KEYSTORE_P, KEYSTORE_DERIVED_BYTES);
    const json = await encryptKeystoreJson(account, passphrase, { ...(this.scryptN ? { scrypt: { N } } : {}), ...(salt ? { salt } : {}) });
    await mkdir(dirname(this.keystorePath), { recursive: true });
    await writeFileAtomic(this.keystorePath, json);
    this.unlocked = wallet;
    this.cachedAddress = wallet.address;
    await this.secrets.set(VAULT_PASSPHRASE_SECRET, remember ? passphrase : null);
  }

  private async readKeystore(): Promise<string | null> {
    try {
      return await readFile(this.keystorePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

/**
 * Starts the keystore's scrypt for `passphrase` on the thread pool now, so that the unlock (or,
 * where there is no keystore yet, the creation) that follows finds it done: a command calls
 * this as soon as it has read the passphrase, and the ~0.5 s of scrypt runs while it opens the
 * data directory. Same KDF, same cost (nativeKdf.ts deriveAhead); a keystore it cannot read
 * is left to the unlock, which reports it.
 */
export function startKeystoreKdf(keystorePath: string, passphrase: string, scryptN = DEFAULT_SCRYPT_N): void {
  const password = passwordBytes(passphrase);
  let json: string;
  try {
    json = readFileSync(keystorePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    // No keystore yet: the one about to be made gets this fresh salt (saltAhead in save()).
    deriveAhead({ password, salt: randomBytes(32), N: scryptN, r: KEYSTORE_R, p: KEYSTORE_P, dkLen: KEYSTORE_DERIVED_BYTES });
    return;
  }
  const params = scryptParamsOf(json);
  if (params) deriveAhead({ password, ...params, dkLen: KEYSTORE_DERIVED_BYTES });
}

/** The scrypt parameters of a Web3 Secret Storage keystore, as ethers reads them; null for anything else. */
function scryptParamsOf(json: string): { salt: Uint8Array; N: number; r: number; p: number } | null {
  try {
    const data = JSON.parse(json) as Record<string, unknown>;
    const crypto = Object.entries(data).find(([key]) => key.toLowerCase() === 'crypto')?.[1] as { kdf?: unknown; kdfparams?: Record<string, unknown> } | undefined;
    const params = crypto?.kdfparams;
    if (typeof crypto?.kdf !== 'string' || crypto.kdf.toLowerCase() !== 'scrypt' || !params) return null;
    const { salt, n, r, p, dklen } = params;
    if (typeof salt !== 'string' || !/^(0x)?([0-9a-f]{2})+$/i.test(salt) || dklen !== 32) return null;
    if (![n, r, p].every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0)) return null;
    return { salt: Buffer.from(salt.replace(/^0x/i, ''), 'hex'), N: n as number, r: r as number, p: p as number };
  } catch {
    return null;
  }
}

/** A wallet from a recovery phrase; a phrase that is not valid BIP-39 is a wrong phrase. */
export function walletFromPhrase(phrase: string): HDNodeWallet {
  const normalized = phrase.trim().toLowerCase().split(/\s+/).join(' ');
  if (!Mnemonic.isValidMnemonic(normalized)) {
    throw new HearthError('WRONG_PASSPHRASE', 'That is not a valid recovery phrase: a word is misspelled, missing or out of order.');
  }
  useNativeKdf();
  return Wallet.fromPhrase(normalized);
}

function addressOf(json: string): string | null {
  try {
    const address = (JSON.parse(json) as { address?: unknown }).address;
    return typeof address === 'string' ? getAddress(address.startsWith('0x') ? address : `0x${address}`) : null;
  } catch {
    return null;
  }
}
