import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SecretKeeper } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import { FileSecretStore, type SecretStore } from './secretStore';

/** How long one call of `secret-tool` may take (a locked keyring that prompts nobody never answers). */
const CALL_MS = 10_000;
const PROBE_MS = 5_000;

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(tool: string, args: string[], input: string | null, timeoutMs: number): Promise<ToolResult> {
  return new Promise((done) => {
    const child = execFile(tool, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr: stderr || (error && code === -1 ? error.message : '') });
    });
    child.stdin?.end(input ?? '');
  });
}

/** The first executable `name` on PATH, or null. */
export function findOnPath(name: string, env: Readonly<Record<string, string | undefined>>): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/**
 * Secrets in the freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) through
 * libsecret's `secret-tool`, one item per secret, found by the data directory and the name.
 * The value travels on stdin, never in argv.
 */
class SecretToolStore implements SecretStore {

  constructor(
    private readonly tool: string,
    private readonly dataDir: string,
  ) {}

  keeper(): Promise<SecretKeeper> {
    return Promise.resolve('keychain');
  }

  async get(name: string): Promise<string | null> {
    const result = await runTool(this.tool, ['lookup', ...this.attributes(name)], null, CALL_MS);
    if (result.code === 0) return result.stdout;
    if (result.code === 1 && result.stderr.trim() === '') return null;
    throw this.failure('read', name, result);
  }

  async set(name: string, value: string | null): Promise<void> {
    const result =
      value === null
        ? await runTool(this.tool, ['clear', ...this.attributes(name)], null, CALL_MS)
        : await runTool(this.tool, ['store', `--label=Hearth (${this.dataDir}): ${name}`, ...this.attributes(name)], value, CALL_MS);
    // clear exits 1 when there was nothing to clear.
    if (result.code === 0 || (value === null && result.code === 1 && result.stderr.trim() === '')) return;
    throw this.failure('write', name, result);
  }

  private attributes(name: string): string[] {
    return ['application', 'hearth', 'data-dir', this.dataDir, 'secret', name];
  }

  private failure(what: string, name: string, result: ToolResult): HearthError {
    const why = result.stderr.trim() || `exit code ${result.code}`;
    return new HearthError('UNSUPPORTED', `The Secret Service could not ${what} ${name} (secret-tool: ${why}). Unlock the keyring, or run Hearth without "remember".`);
  }
}

/**
 * The secret store of a plain-Node host (the server, the CLI): the Secret Service when
 * `secret-tool` (libsecret-tools) is installed and a Secret Service answers on the session bus,
 * else FileSecretStore in the data directory. Decided once, on first use. Values the file store
 * holds are still read there, and move to the Secret Service when next written.
 */
export class HostSecretStore implements SecretStore {
  private chosen: Promise<SecretStore> | null = null;
  private readonly file: FileSecretStore;

  constructor(
    private readonly dataDir: string,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.file = new FileSecretStore(dataDir);
  }

  /** Where secrets are kept on this host: the Secret Service (keychain) or the data directory. */
  async keeper(): Promise<SecretKeeper> {
    return (await this.backend()).keeper();
  }

  async get(name: string): Promise<string | null> {
    const backend = await this.backend();
    return (await backend.get(name)) ?? (backend === this.file ? null : this.file.get(name));
  }

  async set(name: string, value: string | null): Promise<void> {
    const backend = await this.backend();
    await backend.set(name, value);
    if (backend !== this.file) await this.file.set(name, null);
  }

  private backend(): Promise<SecretStore> {
    this.chosen ??= this.choose();
    return this.chosen;
  }

  private async choose(): Promise<SecretStore> {
    if (process.platform !== 'linux' || !this.env.DBUS_SESSION_BUS_ADDRESS) return this.file;
    const tool = findOnPath('secret-tool', this.env);
    if (!tool) return this.file;
    // Exit 1 with nothing said: the service answered and holds no such item.
    const probe = await runTool(tool, ['lookup', 'application', 'hearth', 'probe', 'availability'], null, PROBE_MS);
    return probe.code === 0 || (probe.code === 1 && probe.stderr.trim() === '') ? new SecretToolStore(tool, this.dataDir) : this.file;
  }
}
