#!/usr/bin/env node
// The `hearth` command: runs the built CLI (`npm run build` produces out/main/cli.js).
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Most commands run for seconds: with V8's default budget TurboFan compiles ~140-165 functions
// in one vault restore or snapshot (0.25-0.5 s of CPU on its thread), most of them glue that
// runs a few thousand times. Four times the budget leaves ~56, the hot loops among them; a
// long-running `hearth serve` reaches optimized code a little later. Measured interleaved
// (BENCHMARKS.md, session 7): CPU -3 to -4 % (first backup) and -2 to -8 % (restore), wall time
// no worse. Set before the CLI loads, so its functions (and the vault's worker) get it.
setFlagsFromString('--interrupt-budget=270336');

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('hearth: the app is not built yet. Run `npm run build` first (or `npm run setup`).');
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
