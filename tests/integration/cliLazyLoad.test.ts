import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/server';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const root = join(__dirname, '..', '..');

/**
 * Runs the built CLI with a module hook that records every specifier the process resolves
 * (tests/support/importTrace.mjs), and returns those specifiers.
 */
function resolvedModules(args: string[], trace: string): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_IMPORT_TRACE: trace, HEARTH_LOG: 'warn' };
  delete env.HEARTH_DATA_DIR;
  delete env.HEARTH_VAULT_PASSPHRASE;
  const run = spawnSync(process.execPath, ['--import', join(root, 'tests', 'support', 'importTrace.mjs'), join(root, 'bin', 'hearth.mjs'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

/** node-llama-cpp (about 0.5 s of CPU and 40 MB) is loaded by the commands that read a model, and only by them. */
describe('the built CLI loads node-llama-cpp only when a command needs it', { timeout: 60_000 }, () => {
  const dir = tempDir('hearth-cli-lazy-');
  beforeAll(() => assertBuilt());
  afterAll(() => dir.cleanup());

  it('hearth vault status and hearth --help do not load it', () => {
    const vault = resolvedModules(['vault', 'status', '--data-dir', join(dir.path, 'data')], join(dir.path, 'vault.trace'));
    // The hook sees the packages the command does load, so the absence below means something.
    expect(vault).toContain('better-sqlite3');
    expect(vault).not.toContain('node-llama-cpp');
    const help = resolvedModules(['--help'], join(dir.path, 'help.trace'));
    expect(help.length).toBeGreaterThan(0);
    expect(help).not.toContain('node-llama-cpp');
  });

  it('hearth models fit, which reads a GGUF header, loads it', async () => {
    const model = await testModelPath('stories260K');
    const fit = resolvedModules(['models', 'fit', model, '--data-dir', join(dir.path, 'data')], join(dir.path, 'fit.trace'));
    expect(fit).toContain('node-llama-cpp');
  });
});
