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

type Env = Readonly<Record<string, string | undefined>>;

/** Runs `tool` in the host's environment (its session bus), the value on stdin. */
function runTool(tool: string, args: string[], input: string | null, timeoutMs: number, env: Env): Promise<ToolResult> {
  return new Promise((done) => {
    const child = execFile(tool, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr: stderr || (error && code === -1 ? error.message : '') });
    });
    child.stdin?.end(input ?? '');
  });
}

/** The first executable `name` on PATH, or null. */
export function findOnPath(name: string, env: Env): string | null {
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
    private readonly env: Env,
  ) {}

  keeper(): Promise<SecretKeeper> {
    return Promise.resolve('keychain');
  }

  async get(name: string): Promise<string | null> {
    const result = await runTool(this.tool, ['lookup', ...this.attributes(name)], null, CALL_MS, this.env);
    if (result.code === 0) return result.stdout;
    if (result.code === 1 && result.stderr.trim() === '') return null;
    throw this.failure('read', name, result);
  }

  async set(name: string, value: string | null): Promise<void> {
    const result =
      value === null
        ? await runTool(this.tool, ['clear', ...this.attributes(name)], null, CALL_MS, this.env)
        : await runTool(this.tool, ['store', `--label=Hearth (${this.dataDir}): ${name}`, ...this.attributes(name)], value, CALL_MS, this.env);
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
 * `secret-tool` (libsecret-tools) is installed and the Secret Service on the session bus accepts
 * an item (its default keyring exists and is unlocked), else FileSecretStore in the data directory. Decided once, on first use. Values the file store
 * holds are still read there, and move to the Secret Service when next written.
 */
export class HostSecretStore implements SecretStore {
  private chosen: Promise<SecretStore> | null = null;
  private readonly file: FileSecretStore;

  constructor(
    private readonly dataDir: string,
    private readonly env: Env,
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
    // A lookup answers even when the keyring is locked or has no default collection (it finds
    // nothing), and storing then fails: so store and clear a probe item, and use the Secret
    // Service only where that works.
    const probe = ['application', 'hearth', 'probe', 'availability'];
    const stored = await runTool(tool, ['store', '--label=Hearth: Secret Service check', ...probe], 'probe', PROBE_MS, this.env);
    if (stored.code !== 0) return this.file;
    await runTool(tool, ['clear', ...probe], null, PROBE_MS, this.env);
    return new SecretToolStore(tool, this.dataDir, this.env);
  }
}
