import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProofBundle, VerifyReport } from '#contract/verify';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { assertBuilt, runHearth, type HearthRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/**
 * `hearth receipts export` and `hearth verify` through the built CLI: a reply exported from one
 * data directory verifies from another, empty one, given only the model file; a tampered
 * bundle exits 1 and says why.
 */
describe('hearth verify from the command line', { timeout: 120_000 }, () => {
  const sender = tempDir('hearth-cli-verify-sender-');
  const verifier = tempDir('hearth-cli-verify-empty-');
  const bundlePath = join(verifier.path, 'bundle.json');
  let modelPath: string;
  let address: string;
  let threadId: string;

  const run = (args: string[]): Promise<HearthRun> => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    return runHearth(args, env);
  };
  const verify = (file: string, ...more: string[]) => run(['verify', file, '--model', modelPath, '--data-dir', verifier.path, '--gpu', 'off', ...more]);

  beforeAll(async () => {
    assertBuilt();
    modelPath = await testModelPath('stories260K');
    const core = createCore(
      { dataDir: sender.path, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger: createConsoleLogger('error') },
    );
    try {
      const model = await core.models.add(modelPath);
      await core.runner.load(model.id, { contextSize: 512 });
      core.settings.update({ maxReplyTokens: 32, temperature: 0.7 });
      ({ address } = await core.vault.create({ passphrase: 'correct horse battery' }));
      threadId = core.chat.createThread('Story', 'You tell short stories.').id;
      await core.chat.send(threadId, 'Once upon a time', { seed: 42 });
      await core.chat.idle(threadId);
    } finally {
      await core.dispose();
    }
  });
  afterAll(() => {
    sender.cleanup();
    verifier.cleanup();
  });

  it('exports the latest reply of a chat as a proof bundle', async () => {
    const exported = await run(['receipts', 'export', threadId, '-o', bundlePath, '--data-dir', sender.path, '--gpu', 'off']);
    expect(exported.stderr).toContain('Wrote the proof bundle of reply');
    expect(exported.code).toBe(0);
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as ProofBundle;
    expect(bundle).toMatchObject({ format: 'hearth-proof-bundle', version: 1, transcript: { question: 'Once upon a time' } });
    expect(bundle.receipt.signer).toBe(address);
  });

  it('verifies it from an empty data directory: every check, the replay identical, exit 0', async () => {
    const result = await verify(bundlePath, '--address', address.toLowerCase());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}signature +Signed by 0x[0-9a-fA-F]{40}: the address given\.$/m);
    expect(result.stdout).toMatch(/^ok {4}replay +Identical: replaying on the CPU gives the same \d+ output tokens/m);
    expect(result.stdout).toContain('Verified: no check failed.');

    const json = await verify(bundlePath, '--json');
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report).toMatchObject({ ok: true, signer: address, replay: { outcome: 'identical' } });
  });

  it('a tampered bundle exits 1 and says what changed', async () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as ProofBundle;
    const tampered = join(verifier.path, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...bundle, transcript: { ...bundle.transcript!, answer: 'Something else entirely.' } }));
    const result = await verify(tampered);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}transcript +The answer's text is not the one the receipt names/m);
    expect(result.stdout).toContain('NOT VERIFIED: a check failed.');

    writeFileSync(tampered, JSON.stringify({ ...bundle, receipt: { ...bundle.receipt, fields: { ...bundle.receipt.fields, createdAt: 1 } } }));
    const changed = await verify(tampered);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/^error RECEIPT_INVALID: The receipt in tampered\.json \(its receipt\) names hash 0x[0-9a-f]{64}, but its fields hash to/m);
  });

  it('refuses what is not a bundle, and a malformed address', async () => {
    const notJson = join(verifier.path, 'notes.txt');
    writeFileSync(notJson, 'hello');
    const result = await verify(notJson);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error RECEIPT_INVALID: notes.txt is not JSON');
    const bad = await verify(bundlePath, '--address', '0x1234');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--address takes a wallet address');
  });
});
