import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretKeeper } from '#contract/vocabulary';
import { Sequencer } from '../common/async';
import { writeFileAtomic, writeFileDurably } from '../common/atomicFile';
import { fileError } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';

/** Where the host keeps small secrets (the Hugging Face token, a remembered passphrase). Null means "none stored". */
export interface SecretStore {
  get(name: string): Promise<string | null>;
  /** Stores a value; null removes it. */
  set(name: string, value: string | null): Promise<void>;
  /** Where the values are kept: a keychain outside the data directory, or the data directory itself (recoverable from a copy of it). */
  keeper(): Promise<SecretKeeper>;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Binds the ciphertext to its purpose and format version. */
const AAD = Buffer.from('hearth-secrets-v1');

interface SealedFile {
  version: 1;
  algorithm: typeof ALGORITHM;
  iv: string;
  tag: string;
  data: string;
}

/**
 * Secrets for plain-Node hosts (server, CLI, tests): `<dataDir>/secrets.json`, encrypted and
 * authenticated with AES-256-GCM under a random key in `<dataDir>/secret.key` (mode 0600).
 *
 * This keeps a token out of casual view, out of logs and out of backups or snapshots that copy
 * secrets.json without the key; it does not protect against someone who can read the data
 * directory, since the key sits beside the file: a copy of the directory recovers every value
 * (keeper 'dataDir', which the UI and the CLI say). Snapshots never include either file. The
 * desktop app plugs Electron's safeStorage (the OS keychain) in through the same interface,
 * the server and the CLI the Secret Service where there is one (HostSecretStore).
 */
export class FileSecretStore implements SecretStore {
  private readonly keyPath: string;
  private readonly filePath: string;
  /** Serialises writes in this process so two set() calls never lose each other's change. */
  private readonly writes = new Sequencer();

  constructor(private readonly dataDir: string) {
    this.keyPath = join(dataDir, 'secret.key');
    this.filePath = join(dataDir, 'secrets.json');
  }

  keeper(): Promise<SecretKeeper> {
    return Promise.resolve('dataDir');
  }

  async get(name: string): Promise<string | null> {
    checkName(name);
    await this.writes.settled();
    const secrets = await this.readAll();
    return Object.hasOwn(secrets, name) ? (secrets[name] ?? null) : null;
  }

  async set(name: string, value: string | null): Promise<void> {
    checkName(name);
    await this.writes.queue(async () => {
      const secrets = await this.readAll();
      if (value === null) {
        if (!Object.hasOwn(secrets, name)) return;
        delete secrets[name];
      } else {
        secrets[name] = value;
      }
      await this.writeAll(secrets);
    });
  }

  private async readAll(): Promise<Record<string, string>> {
    const text = await readIfExists(this.filePath);
    if (text === null) return {};
    const key = await readIfExists(this.keyPath, null);
    if (key === null) {
      throw new HearthError('CORRUPT_FILE', `${this.keyPath} is missing, so ${this.filePath} cannot be read. Delete secrets.json and enter the secrets again.`);
    }
    return decrypt(text, checkKey(key, this.keyPath), this.filePath);
  }

  private async writeAll(secrets: Record<string, string>): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const key = await this.keyForWriting();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const sealed: SealedFile = {
      version: 1,
      algorithm: ALGORITHM,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await writeFileAtomic(this.filePath, `${JSON.stringify(sealed)}\n`);
  }

  /** The key, created on first write. link() never replaces, so two processes agree on one key. */
  private async keyForWriting(): Promise<Buffer> {
    const existing = await readIfExists(this.keyPath, null);
    if (existing !== null) return checkKey(existing, this.keyPath);
    const temp = `${this.keyPath}.${randomUUID()}.tmp`;
    try {
      await writeFileDurably(temp, randomBytes(KEY_BYTES));
      try {
        await link(temp, this.keyPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    } finally {
      await rm(temp, { force: true });
    }
    return checkKey(await readFile(this.keyPath), this.keyPath);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new HearthError('BAD_INPUT', 'A secret needs a name of 1 to 200 characters');
  }
}

function checkKey(key: Buffer, path: string): Buffer {
  if (key.length !== KEY_BYTES) throw new HearthError('CORRUPT_FILE', `${path} is damaged: it should hold ${KEY_BYTES} bytes, it holds ${key.length}`);
  return key;
}

function decrypt(text: string, key: Buffer, path: string): Record<string, string> {
  const damaged = (why: string, cause?: unknown) =>
    new HearthError('CORRUPT_FILE', `${path} ${why}. Delete it and enter the secrets again.`, { cause });
  let sealed: Partial<SealedFile>;
  try {
    sealed = JSON.parse(text) as Partial<SealedFile>;
  } catch (error) {
    throw damaged('is not valid JSON', error);
  }
  if (sealed?.version !== 1 || sealed.algorithm !== ALGORITHM || typeof sealed.iv !== 'string' || typeof sealed.tag !== 'string' || typeof sealed.data !== 'string') {
    throw damaged('is not a Hearth secrets file');
  }
  let plain: string;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    // GCM authentication failed: the file was altered, or the key is not the one it was sealed with.
    throw damaged('was changed outside Hearth or does not match secret.key', error);
  }
  const secrets = JSON.parse(plain) as unknown;
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets) || !Object.values(secrets).every((v) => typeof v === 'string')) {
    throw damaged('holds data in an unexpected shape');
  }
  return Object.assign(Object.create(null) as Record<string, string>, secrets);
}

async function readIfExists(path: string): Promise<string | null>;
async function readIfExists(path: string, encoding: null): Promise<Buffer | null>;
async function readIfExists(path: string, encoding: 'utf8' | null = 'utf8'): Promise<string | Buffer | null> {
  try {
    return encoding ? await readFile(path, encoding) : await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(error, path, { other: `Cannot read ${path}: ${(error as Error).message}` });
  }
}
