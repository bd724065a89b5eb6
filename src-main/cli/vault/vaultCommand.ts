import { defineGroup } from '../declare/commandSpec';
import { checkCommand, gcCommand } from './checkCommand';
import { importCommand } from './importCommand';
import { initCommand } from './initCommand';
import { lockCommand } from './lockCommand';
import { lsCommand } from './lsCommand';
import { phraseCommand } from './phraseCommand';
import { publishCommand } from './publishCommand';
import { restoreCommand } from './restoreCommand';
import { scheduleCommand } from './scheduleCommand';
import { signCommand } from './signCommand';
import { snapshotCommand } from './snapshotCommand';
import { statusCommand } from './statusCommand';
import { targetCommand } from './targetCommands';
import { unlockCommand } from './unlockCommand';

/** `hearth vault init|import|status|ls|unlock|lock|phrase|sign|target|snapshot|publish|restore|schedule|check|gc`. */
export const vaultCommand = defineGroup({
  name: 'vault',
  summary: 'Encrypted backups under a wallet: init, snapshot, publish, restore, targets (hearth vault --help)',
  description: `Encrypted, content-addressed backups of your library (chats, settings, index; optionally
models and source documents) under a wallet identity. Snapshots are sealed on this machine
and published as CAR files to a folder, an IPFS node or web3.storage; the 12-word recovery
phrase alone restores them anywhere.`,
  commands: [
    initCommand,
    importCommand,
    statusCommand,
    lsCommand,
    unlockCommand,
    lockCommand,
    phraseCommand,
    signCommand,
    targetCommand,
    snapshotCommand,
    publishCommand,
    restoreCommand,
    scheduleCommand,
    checkCommand,
    gcCommand,
  ],
  notes: `The passphrase (which unlocks the wallet stored in this library) comes from
--passphrase-file F or $HEARTH_VAULT_PASSPHRASE, never from an argument.`,
});
