import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOnPath } from '../../src-main/core/ports/secretServiceStore';
import { tempDir } from './tempDir';

/** The programs a private Secret Service needs, and the Debian packages that hold them. */
const TOOLS: Record<string, string> = {
  'secret-tool': 'libsecret-tools',
  'dbus-daemon': 'dbus',
  'dbus-send': 'dbus',
  'gnome-keyring-daemon': 'gnome-keyring',
};

/** Throws, naming the packages to install, when a program the Secret Service tests need is missing. */
export function assertKeyringTools(): void {
  const missing = Object.keys(TOOLS).filter((tool) => !findOnPath(tool, process.env));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => TOOLS[tool]))].join(' ');
    throw new Error(`The Secret Service tests need ${missing.join(', ')}: apt-get install ${packages} (.ci/run installs them)`);
  }
}

/**
 * A session bus of its own (no service activation, so nothing starts behind the test's back)
 * with a temporary HOME and XDG_RUNTIME_DIR, and optionally gnome-keyring-daemon's Secret
 * Service on it with an unlocked login keyring. Every process is ours, stopped by pid.
 */
export class PrivateKeyring {
  readonly env: NodeJS.ProcessEnv;
  private readonly dir = tempDir('hearth-keyring-');
  private readonly busPid: number;
  private keyring: ChildProcess | null = null;

  constructor() {
    const home = join(this.dir.path, 'home');
    const runtime = join(this.dir.path, 'run');
    mkdirSync(home, { recursive: true });
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    const config = join(this.dir.path, 'bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=${runtime}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
`,
    );
    const printed = execFileSync('dbus-daemon', [`--config-file=${config}`, '--fork', '--print-address=1', '--print-pid=1', '--nopidfile'], {
      encoding: 'utf8',
      timeout: 10_000,
    }).split('\n');
    const [address, pid] = printed;
    if (!address?.startsWith('unix:') || !pid || !/^\d+$/.test(pid.trim())) throw new Error(`dbus-daemon printed no address and pid: ${printed.join(' | ')}`);
    this.busPid = Number(pid.trim());
    this.env = {
      ...process.env,
      HOME: home,
      XDG_RUNTIME_DIR: runtime,
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CONFIG_HOME: join(home, '.config'),
      DBUS_SESSION_BUS_ADDRESS: address.trim(),
    };
  }

  /** Starts gnome-keyring-daemon's Secret Service on this bus, its login keyring unlocked (created) with `password`. */
  async startKeyring(password: string): Promise<void> {
    const child = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env: this.env, stdio: ['pipe', 'ignore', 'pipe'] });
    this.keyring = child;
    let said = '';
    child.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    child.stdin?.end(password);
    for (let tries = 0; tries < 100; tries += 1) {
      if (this.nameOwned('org.freedesktop.secrets')) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`gnome-keyring-daemon did not take org.freedesktop.secrets on the private bus: ${said.trim() || `exit ${child.exitCode}`}`);
  }

  /** Locks the login keyring, as a screen lock or `secret-tool lock` would. */
  lockLogin(): void {
    this.dbus('org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login');
  }

  /** `secret-tool` itself, run against this bus; null when it finds nothing. */
  secretTool(args: string[]): string | null {
    try {
      return execFileSync('secret-tool', args, { env: this.env, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if ((error as { status?: number }).status === 1) return null;
      throw error;
    }
  }

  /** Stops the keyring and the bus (by pid) and deletes the temporary home. */
  async stop(): Promise<void> {
    const keyring = this.keyring;
    if (keyring && keyring.exitCode === null && keyring.signalCode === null) {
      const exited = new Promise((done) => keyring.once('exit', done));
      keyring.kill('SIGTERM');
      await exited;
    }
    try {
      process.kill(this.busPid, 'SIGTERM');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    this.dir.cleanup();
  }

  private nameOwned(name: string): boolean {
    return this.dbus('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${name}`).includes('boolean true');
  }

  private dbus(dest: string, path: string, method: string, ...args: string[]): string {
    return execFileSync('dbus-send', ['--session', '--print-reply', `--dest=${dest}`, path, method, ...args], { env: this.env, encoding: 'utf8', timeout: 10_000 });
  }
}
