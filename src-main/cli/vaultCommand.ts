import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { JobInfo, VaultSchedule, VaultSnapshot, VaultStatus, VaultTarget } from '#contract/dto';
import { isErrorCode } from '#contract/errors';
import { HearthError, isAbortError } from '../core/common/hearthError';
import type { Core } from '../core/createCore';
import { restoreSnapshot, restoreStagingDir, type RestoreResult } from '../core/vault/snapshotRestorer';
import { FolderTarget } from '../core/vault/targets/folderTarget';
import { GatewayFetcher } from '../core/vault/targets/gatewayFetcher';
import { KuboTarget } from '../core/vault/targets/kuboTarget';
import type { BlockFetcher, PublishTarget } from '../core/vault/types';
import { latestFromPointer } from '../core/vault/vaultService';
import { walletFromPhrase } from '../core/vault/walletIdentity';
import type { CliContext } from './cliContext';
import { commandArgs, coreOptions, parseInteger } from './commandArgs';
import { formatBytes, json, table } from './format';
import { helpText } from './helpText';
import { openCore, type CoreArgs } from './openCore';
import { UsageError } from './usageError';

/** The environment variable that may hold the vault passphrase (never an argv value: `ps` shows those). */
export const PASSPHRASE_ENV = 'HEARTH_VAULT_PASSPHRASE';

const SUBCOMMANDS = ['init', 'import', 'status', 'ls', 'unlock', 'lock', 'phrase', 'target', 'snapshot', 'publish', 'restore', 'schedule'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
type Handler = (command: string, args: string[], ctx: CliContext) => Promise<number>;

const secretOptions = {
  'passphrase-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const INTERRUPTED = 130;
const WRITE_IT_DOWN =
  'Write these 12 words down, in order, and keep them somewhere safe and offline. They are the only way to\n' +
  'restore your backups on another machine; Hearth keeps no copy it could give back. Anyone who has them\n' +
  'can read your backups.\n';

/** `hearth vault init|import|status|ls|unlock|lock|phrase|target|snapshot|publish|restore|schedule`. */
export async function vaultCommand(args: string[], ctx: CliContext): Promise<number> {
  const [word, ...rest] = args;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    if (word === undefined) throw new UsageError(`Which vault command: ${SUBCOMMANDS.join(', ')}?`, 'vault');
    ctx.stdout(`${helpText.vault}\n`);
    return 0;
  }
  const sub = SUBCOMMANDS.find((s) => s === word);
  if (!sub) throw new UsageError(`Unknown command "vault ${word}"`, 'vault');
  const handlers: Record<Sub, Handler> = {
    init: initCommand,
    import: importCommand,
    status: statusCommand,
    ls: lsCommand,
    unlock: unlockCommand,
    lock: lockCommand,
    phrase: phraseCommand,
    target: targetCommand,
    snapshot: snapshotCommand,
    publish: publishCommand,
    restore: restoreCommand,
    schedule: scheduleCommand,
  };
  return handlers[sub](`vault ${sub}`, rest, ctx);
}

// --- identity ---

async function initCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, ...secretOptions, remember: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  const passphrase = await readPassphrase(values, ctx, command, { required: true });
  return withCore(command, values, ctx, async (core) => {
    const created = await core.vault.create(passphrase!, Boolean(values.remember));
    if (values.json) {
      ctx.stdout(json(created));
    } else {
      ctx.stdout(`Wallet address: ${created.address}\nRecovery phrase:\n\n  ${created.phrase}\n\n`);
    }
    ctx.stderr(WRITE_IT_DOWN);
    return 0;
  });
}

async function importCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, {
    ...coreOptions,
    ...secretOptions,
    'phrase-file': { type: 'string' },
    remember: { type: 'boolean' },
  });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  const phrase = await readPhrase(values, ctx, command);
  const passphrase = await readPassphrase(values, ctx, command, { required: true });
  return withCore(command, values, ctx, async (core) => {
    const status = await core.vault.import(phrase, passphrase!, Boolean(values.remember));
    ctx.stdout(values.json ? json(status) : `Imported wallet ${status.address}. Back up with: hearth vault snapshot\n`);
    return 0;
  });
}

async function unlockCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, ...secretOptions, remember: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  const passphrase = await readPassphrase(values, ctx, command, { required: true });
  return withCore(command, values, ctx, async (core) => {
    const status = await core.vault.unlock(passphrase!, values.remember ? true : undefined);
    if (values.json) ctx.stdout(json(status));
    else if (values.remember) ctx.stdout(`Unlocked ${status.address}; the passphrase is remembered, so commands, the server and the app no longer ask for it.\n`);
    else ctx.stdout(`The passphrase unlocks ${status.address}. (Each command unlocks on its own; --remember keeps the passphrase.)\n`);
    return 0;
  });
}

async function lockCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, json: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  return withCore(command, values, ctx, async (core) => {
    const status = await core.vault.lock();
    ctx.stdout(values.json ? json(status) : 'Locked: the passphrase is no longer remembered; commands that need the wallet ask for it again.\n');
    return 0;
  });
}

async function phraseCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, ...secretOptions });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  const passphrase = await readPassphrase(values, ctx, command, { required: true });
  return withCore(command, values, ctx, async (core) => {
    const phrase = await core.vault.identity.revealPhrase(passphrase!);
    const address = await core.vault.identity.address();
    ctx.stdout(values.json ? json({ address, phrase }) : `${phrase}\n`);
    ctx.stderr(WRITE_IT_DOWN);
    return 0;
  });
}

// --- overview ---

async function statusCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, json: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  return withCore(command, values, ctx, async (core) => {
    // The core unlocks with a remembered passphrase in the background; wait for it, so the state shown is settled.
    if (await core.vault.identity.remembered()) await core.vault.identity.unlockRemembered();
    const status = await core.vault.status();
    ctx.stdout(values.json ? json(status) : statusText(status, core.vault.targets()));
    return 0;
  });
}

async function lsCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, json: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  return withCore(command, values, ctx, async (core) => {
    const snapshots = core.vault.snapshots();
    const targets = core.vault.targets();
    if (values.json) {
      ctx.stdout(json({ snapshots, targets }));
      return 0;
    }
    ctx.stdout(snapshots.length ? `${snapshotTable(snapshots)}\n` : 'No snapshots yet. Take one with: hearth vault snapshot\n');
    ctx.stdout(`\n${targets.length ? targetTable(targets) : 'No targets yet. Add one with: hearth vault target add folder DIR'}\n`);
    return 0;
  });
}

// --- targets ---

async function targetCommand(_command: string, args: string[], ctx: CliContext): Promise<number> {
  const [word, ...rest] = args;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    if (word === undefined) throw new UsageError('Which vault target command: add, rm, ls, uploads?', 'vault target');
    ctx.stdout(`${helpText['vault target']}\n`);
    return 0;
  }
  if (word !== 'add' && word !== 'rm' && word !== 'ls' && word !== 'uploads') throw new UsageError(`Unknown command "vault target ${word}"`, 'vault target');
  const command = `vault target ${word}`;
  const { values, positionals } = commandArgs(command, rest, {
    ...coreOptions,
    json: { type: 'boolean' },
    name: { type: 'string' },
    space: { type: 'string' },
  });
  if (helpFor(command, values, ctx)) return 0;
  if (word === 'ls') noPositionals(command, positionals);
  if ((word === 'rm' || word === 'uploads') && positionals.length !== 1) throw new UsageError(`vault target ${word} takes exactly one target ID (or name)`, command);
  const kinds = ['folder', 'kubo', 'w3up'] as const;
  const kind = kinds.find((k) => k === positionals[0]);
  if (word === 'add') {
    if (positionals.length !== 2 || !kind) throw new UsageError('Usage: vault target add folder DIR | kubo URL | w3up EMAIL', command);
    if (kind !== 'w3up' && values.space !== undefined) throw new UsageError('--space is for w3up targets', command);
  } else if (values.name !== undefined || values.space !== undefined) {
    throw new UsageError('--name and --space are for vault target add', command);
  }

  return withCore(command, values, ctx, async (core) => {
    if (word === 'ls') {
      const targets = core.vault.targets();
      ctx.stdout(values.json ? json(targets) : `${targets.length ? targetTable(targets) : 'No targets yet. Add one with: hearth vault target add folder DIR'}\n`);
    } else if (word === 'uploads') {
      const uploads = await core.vault.uploads(findTarget(core, positionals[0]!).id);
      ctx.stdout(values.json ? json(uploads) : `${uploads.length ? uploads.map((u) => `${u.at ?? '-'}  ${u.root}`).join('\n') : 'Nothing there yet.'}\n`);
    } else if (word === 'rm') {
      const target = findTarget(core, positionals[0]!);
      core.vault.removeTarget(target.id);
      ctx.stdout(values.json ? json(target) : `Removed ${target.name} (${target.id}); what was published there stays there.\n`);
    } else {
      const value = positionals[1]!;
      const name = values.name === undefined ? {} : { name: values.name };
      const abort = new AbortController();
      const stop = ctx.onSignal(() => abort.abort());
      try {
        if (kind === 'w3up') ctx.stderr(`Check ${value} and click the link web3.storage sent to authorise Hearth (Ctrl+C gives up).\n`);
        const target = await core.vault.addTarget(
          kind === 'folder'
            ? { kind, path: value, ...name }
            : kind === 'kubo'
              ? { kind, apiUrl: value, ...name }
              : { kind: 'w3up', email: value, ...(values.space === undefined ? {} : { space: values.space }), ...name },
          { signal: abort.signal },
        );
        ctx.stdout(values.json ? json(target) : `Added ${target.name} (${target.id}). Publish to it with: hearth vault snapshot --publish ${target.id}\n`);
      } catch (error) {
        if (abort.signal.aborted && isAbortError(error)) {
          ctx.stderr('Cancelled.\n');
          return INTERRUPTED;
        }
        throw error;
      } finally {
        stop();
      }
    }
    return 0;
  });
}

// --- snapshots and publishing ---

async function snapshotCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, {
    ...coreOptions,
    ...secretOptions,
    models: { type: 'boolean' },
    documents: { type: 'boolean' },
    publish: { type: 'string' },
  });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  const passphrase = await readPassphrase(values, ctx, command, { required: false });
  return withCore(command, values, ctx, async (core) => {
    await unlockVault(core, passphrase);
    const target = values.publish === undefined ? null : findTarget(core, values.publish);
    const before = core.vault.snapshots()[0]?.cid ?? null;
    const job = core.vault.startSnapshot({
      includeModels: Boolean(values.models),
      includeDocuments: Boolean(values.documents),
      targetId: target?.id ?? null,
    });
    const done = await waitForJob(core, job, ctx, Boolean(values.json));
    const latest = core.vault.snapshots()[0] ?? null;
    const made = latest && latest.cid !== before ? latest : null;
    if (done.status !== 'completed') {
      if (made && target) {
        ctx.stderr(`Snapshot ${made.cid} was taken but not published. Publish it with: hearth vault publish ${made.cid} --to ${target.id}\n`);
      }
      return jobFailed(done, ctx);
    }
    if (!made) throw new HearthError('INTERNAL', 'The snapshot job finished but recorded no snapshot.');
    if (values.json) {
      ctx.stdout(json(made));
    } else {
      ctx.stdout(`${made.cid}\n`);
      const where = target ? `; published to ${target.name}` : '; kept on this machine (publish it with: hearth vault publish --to TARGET)';
      ctx.stderr(`Snapshot of ${made.files} files (${formatBytes(made.bytes)}), ${formatBytes(made.newBytes)} new${where}.\n`);
    }
    return 0;
  });
}

async function publishCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, { ...coreOptions, ...secretOptions, to: { type: 'string' } });
  if (helpFor(command, values, ctx)) return 0;
  if (positionals.length > 1) throw new UsageError('vault publish takes at most one CID', command);
  const to = values.to;
  if (to === undefined) throw new UsageError('Where to? vault publish [CID] --to TARGET (hearth vault target ls)', command);
  const passphrase = await readPassphrase(values, ctx, command, { required: false });
  return withCore(command, values, ctx, async (core) => {
    const target = findTarget(core, to);
    const cid = positionals[0] ?? core.vault.snapshots()[0]?.cid;
    if (!cid) throw new HearthError('NOT_FOUND', 'There is no snapshot to publish yet: take one with hearth vault snapshot.');
    // The latest-snapshot record a target keeps is signed by the wallet.
    if (target.keepsPointer) await unlockVault(core, passphrase);
    const job = core.vault.startPublish(cid, target.id);
    const done = await waitForJob(core, job, ctx, Boolean(values.json));
    if (done.status !== 'completed') return jobFailed(done, ctx);
    const snapshot = core.vault.snapshots().find((s) => s.cid === cid);
    if (values.json) ctx.stdout(json(snapshot ?? null));
    else {
      const publication = snapshot?.publications.filter((p) => p.targetId === target.id).at(-1);
      ctx.stdout(`Published ${cid} to ${target.name}${publication ? ` (${publication.location}, ${formatBytes(publication.carBytes)} sent)` : ''}.\n`);
    }
    return 0;
  });
}

async function scheduleCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, {
    ...coreOptions,
    json: { type: 'boolean' },
    every: { type: 'string' },
    manual: { type: 'boolean' },
    to: { type: 'string' },
    keep: { type: 'string' },
    models: { type: 'string' },
    documents: { type: 'string' },
  });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  if (values.every !== undefined && values.manual) throw new UsageError('Give --every HOURS or --manual, not both', command);
  const patch: Partial<VaultSchedule> = {};
  if (values.manual) patch.intervalHours = null;
  const every = parseInteger(values.every, '--every', command, { min: 1, max: 24 * 366 });
  if (every !== undefined) patch.intervalHours = every;
  const keep = parseInteger(values.keep, '--keep', command, { min: 1, max: 10_000 });
  if (keep !== undefined) patch.keep = keep;
  const models = yesNo(values.models, '--models', command);
  if (models !== undefined) patch.includeModels = models;
  const documents = yesNo(values.documents, '--documents', command);
  if (documents !== undefined) patch.includeDocuments = documents;
  return withCore(command, values, ctx, async (core) => {
    if (values.to !== undefined) patch.targetId = values.to.toLowerCase() === 'none' ? null : findTarget(core, values.to).id;
    const schedule = Object.keys(patch).length ? core.vault.setSchedule(patch) : (await core.vault.status()).schedule;
    ctx.stdout(values.json ? json(schedule) : `Schedule: ${scheduleText(schedule, core.vault.targets())}\n`);
    return 0;
  });
}

// --- restore ---

/**
 * Restores into a NEW data directory without opening a core there first: the directory must
 * be absent or empty, or it is kept aside by restoreSnapshot, which also resumes an interrupted
 * run. Only afterwards, given a passphrase, is a core opened there to import the phrase.
 */
async function restoreCommand(command: string, args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs(command, args, {
    ...coreOptions,
    ...secretOptions,
    'phrase-file': { type: 'string' },
    cid: { type: 'string' },
    from: { type: 'string' },
    folder: { type: 'string' },
    kubo: { type: 'string' },
    remember: { type: 'boolean' },
  });
  if (helpFor(command, values, ctx)) return 0;
  noPositionals(command, positionals);
  if (!values['data-dir']) throw new UsageError('Where to? --data-dir NEW names the folder to restore into (not the library in use)', command);
  const sources = [values.from, values.folder, values.kubo].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new UsageError('Give exactly one source: --from GATEWAY_URL, --folder DIR or --kubo URL', command);
  if (values.from !== undefined && values.cid === undefined) {
    throw new UsageError('A gateway keeps no record of the latest snapshot: give --cid CID with --from', command);
  }
  const phrase = await readPhrase(values, ctx, command);
  const passphrase = await readPassphrase(values, ctx, command, { required: false });
  const wallet = walletFromPhrase(phrase);
  const dataDir = resolve(values['data-dir']);

  let fetcher: BlockFetcher;
  let target: PublishTarget | null = null;
  if (values.from !== undefined) {
    fetcher = new GatewayFetcher(values.from);
  } else {
    target = values.folder !== undefined ? new FolderTarget(resolve(values.folder)) : new KuboTarget({ apiUrl: values.kubo! });
    fetcher = target.fetcher();
  }

  const quiet = Boolean(values.json);
  const bar = progressBar(ctx, quiet);
  const abort = new AbortController();
  const stop = ctx.onSignal(() => abort.abort());
  let root: string | null = values.cid ?? null;
  let result: RestoreResult;
  try {
    root ??= await latestFromPointer(target, wallet, abort.signal);
    if (!quiet) ctx.stderr(`Restoring snapshot ${root} of ${wallet.address} from ${fetcher.description} into ${dataDir}\n`);
    result = await restoreSnapshot({
      wallet,
      root,
      fetcher,
      dataDir,
      keepBlocks: true,
      signal: abort.signal,
      onProgress: (done, total, file) => bar.update(total > 0 ? done / total : null, file, { done, total }),
    });
    bar.update(1, `${result.files} files verified`, { done: result.bytes, total: result.bytes }, true);
    bar.end();
  } catch (error) {
    bar.end();
    if (abort.signal.aborted && isAbortError(error)) {
      ctx.stderr('Interrupted. Run the same command again to resume where it stopped.\n');
      return INTERRUPTED;
    }
    const staging = root === null ? null : restoreStagingDir(dataDir, root);
    if (error instanceof HearthError && staging && existsSync(staging)) {
      ctx.stderr(`error ${error.code}: ${error.message}\nWhat was restored so far is kept in ${staging}; run the same command again to resume.\n`);
      return 1;
    }
    throw error;
  } finally {
    stop();
  }

  let imported = false;
  if (passphrase !== null) {
    const core = openCore(command, { ...values, 'data-dir': dataDir }, ctx, 'warn', { watch: false });
    try {
      await core.vault.import(phrase, passphrase, Boolean(values.remember));
      imported = true;
    } finally {
      await core.dispose();
    }
  }

  if (values.json) {
    const { manifest: _manifest, ...summary } = result;
    ctx.stdout(json({ ...summary, address: wallet.address, imported }));
    return 0;
  }
  ctx.stdout(`Restored snapshot ${result.root} (taken ${result.createdAt}) into ${result.dataDir}: ${result.files} files, ${formatBytes(result.bytes)}.\n`);
  if (result.keptAside) ctx.stdout(`The folder that was there before is kept at ${result.keptAside}.\n`);
  ctx.stdout(
    imported
      ? `Wallet ${wallet.address} is set up there; keep backing up with: hearth vault snapshot --data-dir ${dataDir}\n`
      : `To keep backing up from there, import the phrase: hearth vault import --phrase-file FILE --data-dir ${dataDir}\n`,
  );
  return 0;
}

// --- helpers ---

function helpFor(command: string, values: { help?: boolean }, ctx: CliContext): boolean {
  if (!values.help) return false;
  ctx.stdout(`${helpText[command]}\n`);
  return true;
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`, command);
}

/** A secret from a file, or from standard input when the name is '-'. */
async function readSecretFile(path: string, what: string, ctx: CliContext): Promise<string> {
  if (path === '-') return ctx.readStdin();
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new HearthError('FILE_NOT_FOUND', `The ${what} file ${path} does not exist.`);
    throw new HearthError('FILE_UNREADABLE', `Could not read the ${what} file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function readPhrase(values: { 'phrase-file'?: string; 'passphrase-file'?: string }, ctx: CliContext, command: string): Promise<string> {
  const file = values['phrase-file'];
  if (file === undefined) throw new UsageError('The recovery phrase: --phrase-file FILE (- for standard input)', command);
  if (file === '-' && values['passphrase-file'] === '-') throw new UsageError('Only one of --phrase-file and --passphrase-file can be "-"', command);
  const phrase = (await readSecretFile(file, 'recovery phrase', ctx)).trim();
  if (!phrase) throw new UsageError(`The recovery phrase file ${file} is empty`, command);
  return phrase;
}

/** --passphrase-file (one trailing newline dropped), else $HEARTH_VAULT_PASSPHRASE; null when neither is given. */
async function readPassphrase(
  values: { 'passphrase-file'?: string },
  ctx: CliContext,
  command: string,
  { required }: { required: boolean },
): Promise<string | null> {
  const file = values['passphrase-file'];
  const passphrase = file !== undefined ? (await readSecretFile(file, 'passphrase', ctx)).replace(/\r?\n$/, '') : (ctx.env[PASSPHRASE_ENV] ?? null);
  if (passphrase === '') throw new UsageError(file !== undefined ? `The passphrase file ${file} is empty` : `$${PASSPHRASE_ENV} is empty`, command);
  if (passphrase === null && required) {
    throw new UsageError(`${command} needs the vault passphrase: set $${PASSPHRASE_ENV} or pass --passphrase-file FILE (- for standard input)`, command);
  }
  return passphrase;
}

/** Unlocks with the passphrase given, else a remembered one; VAULT_LOCKED says how to give it. */
async function unlockVault(core: Core, passphrase: string | null): Promise<void> {
  if (passphrase !== null) {
    await core.vault.unlock(passphrase);
    return;
  }
  const identity = core.vault.identity;
  if (await identity.remembered()) await identity.unlockRemembered();
  const state = await identity.state();
  if (state === 'unlocked') return;
  if (state === 'none') await identity.wallet(); // throws VAULT_NOT_SET_UP with its hint
  throw new HearthError(
    'VAULT_LOCKED',
    `The vault is locked: set $${PASSPHRASE_ENV} or pass --passphrase-file FILE (or remember it once: hearth vault unlock --remember).`,
  );
}

/** A target by id, else by name (case-insensitive). */
function findTarget(core: Core, idOrName: string): VaultTarget {
  const targets = core.vault.targets();
  const byId = targets.find((t) => t.id === idOrName);
  if (byId) return byId;
  const named = targets.filter((t) => t.name.toLowerCase() === idOrName.toLowerCase());
  if (named.length > 1) throw new HearthError('BAD_INPUT', `Several targets are named "${idOrName}": use the id (hearth vault target ls).`);
  if (!named[0]) throw new HearthError('TARGET_NOT_FOUND', `No target with id or name "${idOrName}" (hearth vault target ls).`);
  return named[0];
}

/** Waits for a vault job with a progress bar on stderr; Ctrl+C cancels it (a vault job does not resume). */
async function waitForJob(core: Core, job: JobInfo, ctx: CliContext, quiet: boolean): Promise<JobInfo> {
  const bar = progressBar(ctx, quiet);
  const off = core.events.on('jobs.update', (info) => {
    if (info.id !== job.id) return;
    // A step without a byte count (packing) keeps the previous step's bytes in the job: show none then.
    const bytes = info.progress !== null && info.bytes && info.bytes.total !== null ? { done: info.bytes.done, total: info.bytes.total } : null;
    bar.update(info.progress, info.detail, bytes);
  });
  const stop = ctx.onSignal(() => core.jobs.cancel(job.id));
  try {
    const done = await core.jobs.wait(job.id);
    if (done.status === 'completed') bar.update(1, done.detail, null, true);
    bar.end();
    return done;
  } finally {
    off();
    stop();
  }
}

/** Reports a job that did not complete: cancelled is exit 130, a failure its error (exit 1). */
function jobFailed(done: JobInfo, ctx: CliContext): number {
  if (done.status === 'failed' && done.error) {
    throw new HearthError(isErrorCode(done.error.code) ? done.error.code : 'INTERNAL', done.error.message);
  }
  if (done.status === 'failed') throw new HearthError('INTERNAL', 'The job failed without saying why.');
  ctx.stderr('Cancelled.\n');
  return INTERRUPTED;
}

/** The one-line progress bar `hearth index` also shows, redrawn at most every 200 ms. */
function progressBar(ctx: CliContext, quiet: boolean) {
  let last = 0;
  let drawn = false;
  return {
    update(progress: number | null, detail: string | null, bytes: { done: number; total: number } | null, force = false): void {
      if (quiet || (!force && Date.now() - last < 200)) return;
      last = Date.now();
      drawn = true;
      const pct = Math.floor((progress ?? 0) * 100);
      const amount = bytes && bytes.total > 0 ? ` · ${formatBytes(bytes.done)} of ${formatBytes(bytes.total)}` : '';
      ctx.stderr(`\r[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '-')}] ${String(pct).padStart(3)}% ${clip(detail ?? '', 70)}${amount}\x1b[K`);
    },
    end(): void {
      if (drawn) ctx.stderr('\n');
      drawn = false;
    },
  };
}

function yesNo(value: string | undefined, flag: string, command: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(yes|on|true)$/i.test(value)) return true;
  if (/^(no|off|false)$/i.test(value)) return false;
  throw new UsageError(`${flag} must be yes or no, not "${value}"`, command);
}

function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function scheduleText(schedule: VaultSchedule, targets: VaultTarget[]): string {
  const what = ['data', ...(schedule.includeModels ? ['models'] : []), ...(schedule.includeDocuments ? ['documents'] : [])].join(', ');
  const target = schedule.targetId ? (targets.find((t) => t.id === schedule.targetId)?.name ?? schedule.targetId) : null;
  const cadence = schedule.intervalHours === null ? 'manual only' : `every ${schedule.intervalHours} h while the app or server runs`;
  return `${cadence}; ${what}; ${target ? `published to ${target}` : 'kept on this machine'}; keeps the last ${schedule.keep}`;
}

function statusText(status: VaultStatus, targets: VaultTarget[]): string {
  if (status.state === 'none') {
    return 'No wallet yet. Create one with: hearth vault init (or bring yours: hearth vault import --phrase-file FILE)\n';
  }
  const last = status.lastSnapshot;
  const lines = [
    ['State', `${status.state}${status.remembered ? ' (passphrase remembered)' : ''}`],
    ['Address', status.address ?? ''],
    ['Schedule', scheduleText(status.schedule, targets)],
    ['Next snapshot', status.nextSnapshotAt === null ? '-' : when(status.nextSnapshotAt)],
    ['Last snapshot', last ? `${last.cid} (${when(last.createdAt)}, ${last.files} files, ${formatBytes(last.bytes)}, ${publishedText(last)})` : 'none yet'],
  ];
  return `${table(lines.map(([k, v]) => [`${k}:`, v!]))}\n`;
}

function publishedText(snapshot: VaultSnapshot): string {
  const names = [...new Set(snapshot.publications.map((p) => p.targetName))];
  return names.length ? `published to ${names.join(', ')}` : 'not published';
}

function snapshotTable(snapshots: VaultSnapshot[]): string {
  return table([
    ['CREATED', 'CID', 'FILES', 'SIZE', 'NEW', 'PUBLISHED TO'],
    ...snapshots.map((s) => [
      when(s.createdAt),
      s.cid,
      String(s.files),
      formatBytes(s.bytes),
      formatBytes(s.newBytes),
      [...new Set(s.publications.map((p) => p.targetName))].join(', ') || '-',
    ]),
  ]);
}

function targetTable(targets: VaultTarget[]): string {
  return table([['ID', 'KIND', 'NAME', 'LOCATION'], ...targets.map((t) => [t.id, t.kind, t.name, t.location])]);
}

/** Opens the core for one command and always closes it. */
async function withCore<T>(command: string, values: CoreArgs, ctx: CliContext, run: (core: Core) => Promise<T>): Promise<T> {
  const core = openCore(command, values, ctx, 'warn', { watch: false });
  try {
    return await run(core);
  } finally {
    await core.dispose();
  }
}
