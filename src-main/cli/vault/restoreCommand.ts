import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HearthError, isAbortError } from '../../core/common/hearthError';
import { createConsoleLogger } from '../../core/common/logger';
import { holdRequests } from '../../core/network/networkLedger';
import { dataLayout } from '../../core/ports/dataDir';
import { restoreStagingDir, type RestoreResult } from '../../core/vault/snapshotRestorer';
import { guardedRestore } from '../../core/vault/vaultLock';
import { FolderTarget } from '../../core/vault/targets/folderTarget';
import { GatewayFetcher } from '../../core/vault/targets/gatewayFetcher';
import { KuboTarget } from '../../core/vault/targets/kuboTarget';
import type { BlockFetcher, PublishTarget } from '../../core/vault/types';
import { LatestPointers, type TargetPlace } from '../../core/vault/latestPointer';
import { PointerLedger } from '../../core/vault/pointerLedger';
import type { TargetConfig } from '../../core/vault/targets/targetConfig';
import { placeOf } from '../../core/vault/targets/targetRegistry';
import { resolveDataDir } from '../../core/ports/dataDir';
import { keystorePath, vaultDir } from '../../core/vault/vaultService';
import { startKeystoreKdf, walletFromPhrase } from '../../core/vault/walletIdentity';
import type { CliContext } from '../cliContext';
import { contractFields } from '../contractInput';
import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { formatBytes, terminalSafe } from '../format';
import { interrupted, progressBar, whileInterruptible } from '../jobProgress';
import { openCore, type CoreArgs } from '../openCore';
import { printError, printResult } from '../output';
import { inferenceOptions, jsonOption, modelsDirOption, passphraseOption } from '../sharedOptions';
import { UsageError } from '../usageError';
import { phraseFileOption, readPassphrase, readPhrase, rememberNotice, rememberOption } from './vaultHelpers';

/**
 * `hearth vault restore`: restores into a NEW data directory without opening a core there
 * first: the directory must be absent or empty, or it is kept aside by restoreSnapshot, which
 * also resumes an interrupted run. Only afterwards, given a passphrase, is a core opened there
 * to import the phrase.
 */
export const restoreCommand = defineCommand({
  name: 'restore',
  summary: 'Restore a snapshot into a new data directory (resumable)',
  usage: `--data-dir NEW --phrase-file F
                           (--folder DIR | --kubo URL | --from GATEWAY_URL --cid CID)
                           [--cid CID] [--passphrase-file P] [--remember] [--json]`,
  description: `Restores a snapshot into the data directory NEW from the recovery phrase alone, on this
machine or a new one. Here --data-dir names the NEW directory to restore into, not the
library in use (and $HEARTH_DATA_DIR is not read): no library needs to exist. NEW should be
absent or empty; a folder that is not empty is never overwritten but renamed aside (the
path is printed). A folder that a running Hearth (the app, hearth serve, a command) has open
is refused with DATA_DIR_IN_USE; two restores into one folder run one after the other.

Every chunk is decrypted, authenticated and matched to its keyed hash and size (so every file
is the bytes the snapshot read), every block kept and every block that names others checked
against its CID, the manifest's signature against the wallet and the row counts of every
table before NEW is moved into place. From a folder, the blocks of the models stay there
(NEW's vault records the folder as a target holding them) instead of being copied into NEW. A phrase that does not open the snapshot fails with
WRONG_PASSPHRASE and writes nothing. Interrupted (Ctrl+C, network gone), run the same
command again: it resumes where it stopped.

Without --cid, the latest snapshot is found from the record a folder or IPFS node keeps
(a gateway has none: give --cid). That record is refused with STALE_POINTER when it is older
than one this machine has seen there (kept by the library in use) or, in a folder, older than
the newest snapshot of the wallet the folder holds: an old record put back cannot roll a
restore back unnoticed. The message names the CIDs; --cid restores either on purpose. With a passphrase (--passphrase-file or
$HEARTH_VAULT_PASSPHRASE), the wallet is then stored in NEW, so that library can keep
taking snapshots.`,
  interrupt: 'pause',
  options: {
    // Not the shared --data-dir: this one names the directory to create, and never reads $HEARTH_DATA_DIR.
    'data-dir': text('NEW', 'The directory to restore into (required)').require(
      'Where to? --data-dir NEW names the folder to restore into (not the library in use)',
    ),
    ...phraseFileOption,
    folder: text('DIR', 'Restore from a folder target (a drive, a share)'),
    kubo: text('URL', "Restore from an IPFS node's RPC API"),
    from: text('URL', 'Restore from an IPFS HTTP gateway (trustless, raw blocks)'),
    cid: text('CID', "The snapshot to restore (default: the latest, from the target's record)"),
    ...rememberOption("With a passphrase: keep it in NEW's secret store"),
    ...jsonOption('Print the result as JSON'),
    ...passphraseOption(),
    ...modelsDirOption,
    ...inferenceOptions,
  },
  positionals: {},
  notes: `Exit codes: 0 restored, 1 error (printed as "error CODE: message", e.g. WRONG_PASSPHRASE,
INTEGRITY_ERROR, NOT_FOUND, STALE_POINTER, DATA_DIR_IN_USE), 2 bad usage, 130 interrupted (run it again to resume).`,
  async run({ command, options }, ctx) {
    const sources = [options.from, options.folder, options.kubo].filter((s) => s !== undefined);
    if (sources.length !== 1) throw new UsageError('Give exactly one source: --from GATEWAY_URL, --folder DIR or --kubo URL', command);
    if (options.from !== undefined && options.cid === undefined) {
      throw new UsageError('A gateway keeps no record of the latest snapshot: give --cid CID with --from', command);
    }
    // What vault.restore's input takes (a CID, a path, a gateway URL), checked before anything is read or written.
    const labels = { cid: '--cid CID', dataDir: '--data-dir NEW', from: '--from GATEWAY_URL' };
    contractFields('vault.restore', { cid: options.cid, dataDir: options['data-dir'] }, command, labels);
    if (options.from !== undefined) contractFields('vault.restore', { from: { kind: 'gateway', url: options.from } }, command, labels);
    const phrase = await readPhrase(options, ctx, command);
    const passphrase = await readPassphrase(options, ctx, command);
    const wallet = walletFromPhrase(phrase);
    const dataDir = resolve(options['data-dir']);
    // The restored library's keystore is written at the end (importWallet): its scrypt runs meanwhile.
    if (passphrase !== null) startKeystoreKdf(keystorePath(dataDir), passphrase);

    let fetcher: BlockFetcher;
    let target: PublishTarget | null = null;
    let place: TargetPlace | null = null;
    if (options.from !== undefined) {
      fetcher = new GatewayFetcher(options.from);
    } else {
      // Named as a saved target of the same place would be, so the ledger's records match.
      const config: TargetConfig =
        options.folder !== undefined ? { kind: 'folder', path: resolve(options.folder) } : { kind: 'kubo', apiUrl: options.kubo!.replace(/\/+$/, '') };
      target = config.kind === 'folder' ? new FolderTarget(config.path) : new KuboTarget({ apiUrl: options.kubo! });
      place = placeOf(config);
      fetcher = target.fetcher();
    }

    const quiet = options.json;
    const bar = progressBar(ctx, quiet);
    const abort = new AbortController();
    let root: string | null = options.cid ?? null;
    let result: RestoreResult;
    // No core is open here: what the gateway or Kubo node is asked goes into the restored directory's ledger.
    const traffic = holdRequests();
    try {
      result = await whileInterruptible(
        ctx,
        () => abort.abort(),
        async () => {
          root ??= (await new LatestPointers(libraryLedger(ctx)).resolve(target, wallet, place, fetcher, abort.signal)).root;
          if (!quiet) ctx.stderr(`Restoring snapshot ${root} of ${wallet.address} from ${terminalSafe(fetcher.description)} into ${terminalSafe(dataDir)}\n`);
          return guardedRestore(
            {
              wallet,
              root,
              fetcher,
              dataDir,
              keepBlocks: true,
              // The folder keeps the model blocks for the restored vault (README: what is kept where).
              heldBy: options.folder !== undefined ? { kind: 'folder', path: resolve(options.folder) } : undefined,
              signal: abort.signal,
              onProgress: (done, total, file) => bar.update(total > 0 ? done / total : null, file, { done, total }),
            },
            (message) => bar.update(null, message, null, true),
          );
        },
      );
      bar.update(1, `${result.files} files verified`, { done: result.bytes, total: result.bytes }, true);
      bar.end();
      traffic.writeTo(dataLayout(result.dataDir).networkLedger, createConsoleLogger('warn'));
    } catch (error) {
      traffic.stop();
      bar.end();
      if (abort.signal.aborted && isAbortError(error)) return interrupted('pause', ctx);
      const staging = root === null ? null : restoreStagingDir(dataDir, root);
      if (error instanceof HearthError && staging && existsSync(staging)) {
        printError(ctx, error.code, error.message);
        ctx.stderr(`What was restored so far is kept in ${terminalSafe(staging)}; run the same command again to resume.\n`);
        return 1;
      }
      throw error;
    }

    const imported = passphrase !== null && (await importWallet(options, dataDir, phrase, passphrase, ctx));
    const { manifest: _manifest, ...summary } = result;
    printResult(ctx, options.json, { ...summary, address: wallet.address, imported }, () =>
      [
        `Restored snapshot ${result.root} (taken ${result.createdAt}) into ${result.dataDir}: ${result.files} files, ${formatBytes(result.bytes)}.`,
        ...(result.keptAside ? [`The folder that was there before is kept at ${result.keptAside}.`] : []),
        imported
          ? `Wallet ${wallet.address} is set up there; keep backing up with: hearth vault snapshot --data-dir ${dataDir}`
          : `To keep backing up from there, import the phrase: hearth vault import --phrase-file FILE --data-dir ${dataDir}`,
      ].join('\n'),
    );
    return 0;
  },
});

/**
 * What this machine has seen of the latest-snapshot records: the ledger of the library in use
 * ($HEARTH_DATA_DIR or the default), when it has a vault; none on a machine without one.
 */
function libraryLedger(ctx: CliContext): PointerLedger | null {
  const dir = vaultDir(resolveDataDir(undefined, ctx.env));
  return existsSync(dir) ? PointerLedger.inVault(dir) : null;
}

/** Stores the wallet in the restored library, so it can keep taking snapshots. */
async function importWallet(
  options: CoreArgs & { remember: boolean },
  dataDir: string,
  phrase: string,
  passphrase: string,
  ctx: CliContext,
): Promise<true> {
  // Not quick_checked again: the restore has just matched every chunk of hearth.db to the signed manifest and every table's row count.
  const core = openCore({ ...options, 'data-dir': dataDir }, ctx, 'warn', { watch: false }, { checkDatabaseAtOpen: false });
  try {
    await core.vault.import({ phrase, passphrase, remember: options.remember });
    if (options.remember) await rememberNotice(core, ctx, { ...options, 'data-dir': dataDir });
    return true;
  } finally {
    await core.dispose();
  }
}
