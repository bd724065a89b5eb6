#!/usr/bin/env node
// The `hearth` command: runs the built CLI (`npm run build` produces out/main/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('hearth: the app is not built yet. Run `npm run build` first (or `npm run setup`).');
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
