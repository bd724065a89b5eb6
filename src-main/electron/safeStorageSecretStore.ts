import { safeStorage } from 'electron';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { SecretKeeper } from '#contract/vocabulary';
import { Sequencer } from '../core/common/async';
import { writeFileAtomic } from '../core/common/atomicFile';
import { HearthError } from '../core/common/hearthError';
import type { Logger } from '../core/common/logger';
import type { SecretStore } from '../core/ports/secretStore';
import { decodeJson } from '../core/storage/storedJson';

/** The file's shape: secret name -> the OS-sealed value in base64. */
const sealedSecretsSchema = z.record(z.string(), z.string());

/**
 * Secrets sealed by the OS keychain (Electron safeStorage: Keychain on macOS, DPAPI on
 * Windows, libsecret or KWallet on Linux) in `<dataDir>/secrets.os.json`, which snapshots never
 * include. Where the OS offers no real keychain (Linux's "basic_text" backend), the plain-Node
 * file store is used instead, and said so in the log. Values the file store already holds are
 * still read, and move here when next written.
 */
export class SafeStorageSecretStore implements SecretStore {
  private readonly writes = new Sequencer();

  private constructor(
    private readonly file: string,
    private readonly previous: SecretStore,
  ) {}

  static create(dataDir: string, fallback: SecretStore, logger: Logger): SecretStore {
    const weak = process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text';
    if (!safeStorage.isEncryptionAvailable() || weak) {
      logger.warn('No OS keychain is available: secrets stay in the data directory, encrypted under a key stored beside them.');
      return fallback;
    }
    return new SafeStorageSecretStore(join(dataDir, 'secrets.os.json'), fallback);
  }

  keeper(): Promise<SecretKeeper> {
    return Promise.resolve('keychain');
  }

  async get(name: string): Promise<string | null> {
    await this.writes.settled();
    const sealed = (await this.readAll())[name];
    if (sealed === undefined) return this.previous.get(name);
    return (await safeStorage.decryptStringAsync(Buffer.from(sealed, 'base64'))).result;
  }

  async set(name: string, value: string | null): Promise<void> {
    await this.writes.queue(async () => {
      const all = await this.readAll();
      if (value === null) delete all[name];
      else all[name] = (await safeStorage.encryptStringAsync(value)).toString('base64');
      await this.writeAll(all);
      await this.previous.set(name, null);
    });
  }

  private async readAll(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const decoded = decodeJson(sealedSecretsSchema, text);
    if (!decoded.ok) throw new HearthError('CORRUPT_FILE', `${this.file} is damaged (${decoded.problem}). Delete it and enter the secrets again.`);
    return Object.assign(Object.create(null) as Record<string, string>, decoded.value);
  }

  private async writeAll(all: Record<string, string>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(all));
  }
}
