import type { VaultTarget } from '#contract/dto';
import { fileError } from '../../core/common/fsErrors';
import { HearthError } from '../../core/common/hearthError';
import { readFileOrPipe } from '../../core/common/regularFile';
import type { Core } from '../../core/createCore';
import { resolveDataDir } from '../../core/ports/dataDir';
import { keystorePath } from '../../core/vault/vaultService';
import { startKeystoreKdf } from '../../core/vault/walletIdentity';
import type { CliContext } from '../cliContext';
import { flag, text } from '../declare/options';
import { withCore, type CoreArgs } from '../openCore';
import { PASSPHRASE_ENV } from '../sharedOptions';
import { contractFields } from '../contractInput';
import { terminalSafe } from '../format';
import { UsageError } from '../usageError';

/** What the vault commands share: their secrets, unlocking, finding a target. */

export const WRITE_IT_DOWN =
  'Write these 12 words down, in order, and keep them somewhere safe and offline. They are the only way to\n' +
  'restore your backups on another machine; Hearth keeps no copy it could give back. Anyone who has them\n' +
  'can read your backups.\n';

export const VAULT_EXIT = `Exit codes: 0 done, 1 error (printed as "error CODE: message", e.g. WRONG_PASSPHRASE,
VAULT_LOCKED, VAULT_NOT_SET_UP, TARGET_NOT_FOUND), 2 bad usage, 130 cancelled (Ctrl+C).`;

export const phraseFileOption = {
  'phrase-file': text('F', 'The 12-word recovery phrase, read from file F (- for standard input)').require(
    'The recovery phrase: --phrase-file FILE (- for standard input)',
  ),
} as const;

export function rememberOption(help = 'Keep the passphrase (see "hearth vault unlock --help" for where)') {
  return { remember: flag(help) } as const;
}

/**
 * Said on stderr after the passphrase was remembered on a host with no keychain: there it sits
 * in the data directory, recoverably (FileSecretStore).
 */
export async function rememberNotice(core: Core, ctx: CliContext, args: CoreArgs): Promise<void> {
  if ((await core.vault.status()).rememberKeptIn !== 'dataDir') return;
  const dataDir = resolveDataDir(args['data-dir'], ctx.env);
  ctx.stderr(
    `Note: this host has no keychain (no Secret Service answered), so the passphrase is stored recoverably in ${terminalSafe(dataDir)} ` +
      `(secrets.json, encrypted under secret.key beside it): anyone who can copy that directory, a backup of it included, can recover it ` +
      `and with it the wallet. Hearth's snapshots never include either file. "hearth vault lock" forgets it.\n`,
  );
}

/** How long a named pipe (`<(pass show hearth)`) may take to give the secret. */
const SECRET_PIPE_TIMEOUT_MS = 60_000;
/** A phrase or passphrase is short; a pipe that gives more is not one (and could be endless). */
const SECRET_MAX_BYTES = 64 * 1024;

/**
 * A secret from a file, or from standard input when the name is '-'. A named pipe works (a
 * shell's `<(command)`), read within a time limit; a socket or a device is refused.
 */
async function readSecretFile(path: string, what: string, ctx: CliContext): Promise<string> {
  if (path === '-') return ctx.readStdin();
  try {
    return (await readFileOrPipe(path, { expected: `the ${what}`, pipeTimeoutMs: SECRET_PIPE_TIMEOUT_MS, maxBytes: SECRET_MAX_BYTES })).toString('utf8');
  } catch (error) {
    throw fileError(error, path, {
      notFound: `The ${what} file ${path} does not exist.`,
      other: `Could not read the ${what} file ${path}: ${(error as Error).message}`,
    });
  }
}

export async function readPhrase(
  values: { 'phrase-file': string; 'passphrase-file'?: string | undefined },
  ctx: CliContext,
  command: string,
): Promise<string> {
  const file = values['phrase-file'];
  if (file === '-' && values['passphrase-file'] === '-') throw new UsageError('Only one of --phrase-file and --passphrase-file can be "-"', command);
  const phrase = (await readSecretFile(file, 'recovery phrase', ctx)).trim();
  if (!phrase) throw new UsageError(`The recovery phrase file ${file} is empty`, command);
  // What vault.import and vault.restore take (a phrase of at most 1,000 characters).
  return contractFields('vault.import', { phrase }, command, { phrase: '--phrase-file F' }).phrase;
}

/** --passphrase-file (one trailing newline dropped), else $HEARTH_VAULT_PASSPHRASE; null when neither is given. */
export async function readPassphrase(values: { 'passphrase-file'?: string | undefined }, ctx: CliContext, command: string): Promise<string | null> {
  const file = values['passphrase-file'];
  const passphrase = file !== undefined ? (await readSecretFile(file, 'passphrase', ctx)).replace(/\r?\n$/, '') : (ctx.env[PASSPHRASE_ENV] ?? null);
  if (passphrase === '') throw new UsageError(file !== undefined ? `The passphrase file ${file} is empty` : `$${PASSPHRASE_ENV} is empty`, command);
  return passphrase;
}

/** The passphrase, which this command cannot do without. */
export async function requirePassphrase(values: { 'passphrase-file'?: string | undefined }, ctx: CliContext, command: string): Promise<string> {
  const passphrase = await readPassphrase(values, ctx, command);
  if (passphrase === null) {
    throw new UsageError(`${command} needs the vault passphrase: set $${PASSPHRASE_ENV} or pass --passphrase-file FILE (- for standard input)`, command);
  }
  return passphrase;
}

/** Unlocks with the passphrase given, else a remembered one; VAULT_LOCKED says how to give it. */
export async function unlockVault(core: Core, passphrase: string | null): Promise<void> {
  if (passphrase !== null) {
    await core.vault.unlock({ passphrase });
    return;
  }
  const { state } = await core.vault.unlockRemembered();
  if (state === 'unlocked') return;
  if (state === 'none') await core.vault.assertUnlocked(); // throws VAULT_NOT_SET_UP with its hint
  throw new HearthError(
    'VAULT_LOCKED',
    `The vault is locked: set $${PASSPHRASE_ENV} or pass --passphrase-file FILE (or remember it once: hearth vault unlock --remember).`,
  );
}

/** A target by id, else by name (case-insensitive). */
export function findTarget(core: Core, idOrName: string): VaultTarget {
  const targets = core.vault.targets();
  const byId = targets.find((t) => t.id === idOrName);
  if (byId) return byId;
  const named = targets.filter((t) => t.name.toLowerCase() === idOrName.toLowerCase());
  if (named.length > 1) throw new HearthError('BAD_INPUT', `Several targets are named "${idOrName}": use the id (hearth vault target ls).`);
  if (!named[0]) throw new HearthError('TARGET_NOT_FOUND', `No target with id or name "${idOrName}" (hearth vault target ls).`);
  return named[0];
}

/**
 * Opens the core for one vault command (no folder watching) and always disposes of it. Given
 * the passphrase the command will unlock (or create) the keystore with, the keystore's scrypt
 * starts first, on the thread pool, so it runs while the core opens (startKeystoreKdf).
 * hearth.db is not quick_checked as it opens (about 0.2 s of CPU for a 30 MB library): a vault
 * command reads only its own rows of it, and a snapshot checks the copy it seals, page for page
 * the same as the live file (dataCapture.ts), so a damaged database still never gets into one.
 */
export function withVaultCore<T>(args: CoreArgs, ctx: CliContext, run: (core: Core) => Promise<T>, passphrase: string | null = null): Promise<T> {
  if (passphrase !== null) startKeystoreKdf(keystorePath(resolveDataDir(args['data-dir'], ctx.env)), passphrase);
  return withCore(args, ctx, run, { library: { watch: false }, checkDatabaseAtOpen: false });
}
