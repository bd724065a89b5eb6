#!/usr/bin/env node
// `npm start`: one command from a fresh clone to a running Hearth.
// Installs dependencies if needed, builds when out/ is missing or older than the sources,
// then starts the desktop app where there is a display, or the headless server (open the
// printed URL in any browser) where there is none.
// Pass --server to force the server; anything after -- goes to the server (e.g. --port 8080).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { staleReason } from './buildFreshness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (command, commandArgs, env = {}) => {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

/** Builds quietly: one line while it runs, the full output only if it fails. */
function build(reason) {
  const started = Date.now();
  console.error(`Building Hearth (${reason})…`);
  const result = spawnSync(npm, ['run', 'build'], { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    console.error('The build failed (output above).');
    process.exit(result.status ?? 1);
  }
  console.error(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

/** The server's URL line, set apart so it is the first thing one sees. */
function announce(line) {
  const bold = process.stdout.isTTY ? (text) => `\u001b[1m${text}\u001b[22m` : (text) => text;
  const rule = '─'.repeat(Math.min(line.length + 4, 100));
  process.stdout.write(`\n${rule}\n  ${bold(line)}\n${rule}\n\n`);
}

/** Runs `hearth serve`, highlighting each URL it prints; Enter still reaches it for a new URL. */
function serve(serveArgs) {
  const child = spawn(process.execPath, [join(root, 'bin', 'hearth.mjs'), 'serve', ...serveArgs], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (/^Hearth is running at /.test(line)) announce(line);
    else process.stdout.write(`${line}\n`);
  });
  // Ctrl+C reaches the server from the terminal itself (same process group); a SIGTERM or
  // SIGUSR2 sent to this process only is passed on, and this process waits for the server.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGUSR2', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (!existsSync(join(root, 'node_modules'))) run(npm, ['ci', '--no-audit', '--no-fund']);
const stale = staleReason(root);
if (stale) build(stale);
else console.error('The build in out/ is up to date.');

const hasDisplay =
  process.platform === 'darwin' || process.platform === 'win32' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const wantServer = args.includes('--server') || !hasDisplay;

if (wantServer) {
  if (!hasDisplay) {
    console.error('No display found: starting the headless server. Open the URL below in a browser (it works once; press Enter for another).');
  }
  serve(args.filter((a) => a !== '--server'));
} else {
  // The Electron binary is fetched on first desktop start, not at npm install, so that
  // installs on machines without a display (CI, servers) never need its download host.
  const electronDir = join(root, 'node_modules', 'electron');
  if (!existsSync(join(electronDir, 'path.txt'))) run(process.execPath, [join(electronDir, 'install.js')]);
  // better-sqlite3 must match Electron's ABI: build a copy for it, leaving Node's for tests.
  if (!existsSync(join(root, 'native', 'electron', 'better_sqlite3.node'))) {
    run(process.execPath, [join(root, 'scripts', 'build-electron-native.mjs')]);
  }
  run(npm, ['exec', '--', 'electron-vite', 'preview', '--skipBuild']);
}
