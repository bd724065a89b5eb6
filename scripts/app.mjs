#!/usr/bin/env node
// `npm start`: one command from a fresh clone to a running Hearth.
// Installs dependencies if needed, builds, then starts the desktop app where there is a
// display, or the headless server (open the printed URL in any browser) where there is none.
// Pass --server to force the server; anything after -- goes to the server (e.g. --port 8080).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (command, commandArgs, env = {}) => {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(join(root, 'node_modules'))) run(npm, ['ci', '--no-audit', '--no-fund']);
run(npm, ['run', 'build']);

const hasDisplay =
  process.platform === 'darwin' || process.platform === 'win32' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const wantServer = args.includes('--server') || !hasDisplay;

if (wantServer) {
  if (!hasDisplay) {
    console.error('No display found: starting the headless server. Open the URL below in a browser (it works once; press Enter for another).');
  }
  run(process.execPath, [join(root, 'bin', 'hearth.mjs'), 'serve', ...args.filter((a) => a !== '--server')]);
} else {
  // The Electron binary is fetched on first desktop start, not at npm install, so that
  // installs on machines without a display (CI, servers) never need its download host.
  const electronDir = join(root, 'node_modules', 'electron');
  if (!existsSync(join(electronDir, 'path.txt'))) run(process.execPath, [join(electronDir, 'install.js')]);
  // better-sqlite3 must match Electron's ABI: build a copy for it, leaving Node's for tests.
  if (!existsSync(join(root, 'native', 'electron', 'better_sqlite3.node'))) {
    run(process.execPath, [join(root, 'scripts', 'build-electron-native.mjs')]);
  }
  run(npm, ['exec', '--', 'electron-vite', 'preview']);
}
