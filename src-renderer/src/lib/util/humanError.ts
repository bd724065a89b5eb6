import type { ErrorCode, ErrorData } from '#contract/errors';
import type { AppHost } from '#contract/vocabulary';

/**
 * Where the UI runs decides what an error may tell people to do: the desktop app never
 * mentions a command; a page served by `hearth serve` may name it (its user started it).
 */
export type { AppHost };

/** Places an error's action can open, as the app's own hash routes. */
export const ERROR_PLACES = {
  discover: '#/models',
  localModels: '#/models/local',
  settings: '#/settings',
  backup: '#/backup',
  documents: '#/documents',
} as const;

export type ErrorPlace = keyof typeof ERROR_PLACES;

/** What a person can do about an error: open a place (and scroll to a section there), or run the failed call again. */
export type ErrorAction = { kind: 'open'; label: string; href: string; section: string | null } | { kind: 'retry'; label: string };

/** An error as shown to people: a plain sentence, the server's specifics, the code for details, and at most one action. */
export interface HumanError {
  code: ErrorCode;
  sentence: string;
  /** The server's own message where it adds something (a file name, a limit); null where it would only repeat or confuse. */
  detail: string | null;
  action: ErrorAction | null;
}

type Sentence = string | Readonly<Record<AppHost, string>>;
type ActionSpec = { open: ErrorPlace; label: string; section?: string } | 'retry';

interface Explanation {
  sentence: Sentence;
  action?: ActionSpec;
}

const RETRY_LABEL = 'Retry';
const DOWNLOAD: ActionSpec = { open: 'discover', label: 'Download a model' };
const CHOOSE_MODEL: ActionSpec = { open: 'localModels', label: 'Choose a model' };
const CONTEXT_SETTINGS: ActionSpec = { open: 'settings', label: 'Open settings', section: 'settings-generation-title' };
const HUB_SETTINGS: ActionSpec = { open: 'settings', label: 'Open settings', section: 'model-settings-title' };
const BACKUP: ActionSpec = { open: 'backup', label: 'Open Backup' };

/**
 * One plain sentence (what happened, what to do) for every error code. Typed by the contract's
 * list, so a new code without a sentence does not compile.
 */
export const ERROR_EXPLANATIONS = {
  BAD_INPUT: { sentence: 'Hearth could not use what was entered. Check it and try again.' },
  NOT_FOUND: { sentence: 'That is no longer there; it may have been removed in another window.' },
  FILE_NOT_FOUND: { sentence: 'The file could not be found. Check that it still exists and that the path is complete.' },
  FILE_UNREADABLE: { sentence: 'The file could not be read. Check that it is not open elsewhere and that Hearth may read it.' },
  NOT_A_REGULAR_FILE: { sentence: 'That is not an ordinary file (a folder, a device or a pipe), so Hearth did not open it.' },
  FILE_TIMEOUT: {
    sentence: 'Reading the file took too long. If it is on a network or removable drive, check that the drive is reachable and try again.',
    action: 'retry',
  },
  CORRUPT_FILE: { sentence: 'The file is damaged or cut short, so Hearth cannot use it.' },
  MODEL_NOT_FOUND: { sentence: 'That model is no longer on this computer. Download it again or choose another one.', action: DOWNLOAD },
  MODEL_NOT_LOADED: { sentence: 'No model is loaded. Choose a model to chat with, or download one first.', action: CHOOSE_MODEL },
  MODEL_LOAD_FAILED: { sentence: 'The model could not be loaded. The file may be damaged or unsupported; try another model.', action: CHOOSE_MODEL },
  INSUFFICIENT_MEMORY: {
    sentence: 'There is not enough memory for this model. Close other programs, or choose a smaller model or a smaller context size.',
    action: CHOOSE_MODEL,
  },
  THREAD_NOT_FOUND: { sentence: 'This chat no longer exists; it may have been deleted in another window.' },
  MESSAGE_NOT_FOUND: { sentence: 'That message no longer exists; it may have been deleted or replaced.' },
  MESSAGE_TOO_LARGE: {
    sentence: "This message is too long. Shorten it or split it up; where the model's context is the limit, raise the context size in Settings.",
    action: CONTEXT_SETTINGS,
  },
  IMPORT_INVALID: { sentence: 'This file is not a Hearth or ChatGPT chat export, or it is damaged. Nothing was imported.' },
  CONTEXT_OVERFLOW: {
    sentence: 'This conversation no longer fits in what the model can read at once. Start a new chat, or raise the context size in Settings.',
    action: CONTEXT_SETTINGS,
  },
  BUSY: { sentence: 'Hearth is busy with something else. Try again in a moment.', action: 'retry' },
  CANCELLED: { sentence: 'This was stopped before it finished.' },
  JOB_NOT_FOUND: { sentence: 'That task is no longer known; it may have finished or been cleared.' },
  JOB_RECORD_INVALID: { sentence: 'A saved task could not be read back, so it cannot continue. Start it again.' },
  UNSUPPORTED: { sentence: 'This is not possible here.' },
  UNAUTHORIZED: {
    sentence: {
      desktop: 'Access was refused: a sign-in or access token is missing or no longer valid.',
      server: 'Access was refused: a sign-in or access token is missing or no longer valid. Open the full address Hearth printed when it started.',
    },
  },
  FORBIDDEN: { sentence: 'This access token is valid but is not allowed to do this.' },
  MODEL_GATED: {
    sentence: "This model's publisher asks you to accept its terms first. Accept them on the model's page, save your access token in Settings, then try again.",
    action: HUB_SETTINGS,
  },
  DOWNLOAD_FAILED: { sentence: 'The download failed. Check your internet connection and try again.', action: 'retry' },
  DOWNLOAD_INCOMPLETE: { sentence: 'The download stopped before the whole file arrived. Try again; it continues where it stopped.', action: 'retry' },
  NOT_A_MODEL: { sentence: 'This file is not a model Hearth can load (a GGUF file).' },
  CHECKSUM_MISMATCH: { sentence: 'The downloaded file is not what its publisher lists, so it was not kept. Download it again.', action: 'retry' },
  DISK_FULL: { sentence: 'The disk is full. Free some space, then try again.', action: 'retry' },
  NETWORK_ERROR: {
    sentence: 'Hearth could not reach the network service it needs. Check your internet connection and try again; offline, you can still add a model file you have.',
    action: 'retry',
  },
  COLLECTION_NOT_FOUND: { sentence: 'This document collection no longer exists.', action: { open: 'documents', label: 'Open Documents' } },
  SOURCE_NOT_FOUND: { sentence: 'That folder or file is no longer part of the collection.' },
  DOCUMENT_NOT_FOUND: { sentence: 'That document is no longer in the collection.' },
  EMBEDDING_MODEL_MISSING: { sentence: 'Searching documents needs an embedding model, and there is none on this computer. Download one first.', action: DOWNLOAD },
  RERANKER_UNAVAILABLE: { sentence: 'The reranking model could not be used, so results keep their plain order.' },
  INDEX_ERROR: { sentence: 'The document index could not be updated. Try again.', action: 'retry' },
  INDEX_MISSING: { sentence: 'The document index is missing. Rebuild it on the Documents screen.', action: { open: 'documents', label: 'Open Documents' } },
  DATABASE_CORRUPT: {
    sentence: {
      desktop: "Hearth's data file is damaged, so Hearth will not write to it. Keep a copy of the data folder, then restore your last backup.",
      server: "Hearth's data file is damaged, so Hearth will not write to it. The details say how to save what is left; or restore your last backup.",
    },
    action: BACKUP,
  },
  DATA_DIR_READ_ONLY: { sentence: "Hearth cannot save to its data folder: it is read-only or not permitted. Check the folder's permissions." },
  WRONG_PASSPHRASE: { sentence: 'That passphrase is not right. Check it (and Caps Lock) and try again.' },
  INTEGRITY_ERROR: { sentence: 'The data failed its integrity check: it was damaged or changed, so it was not used.' },
  SIGNATURE_INVALID: { sentence: 'The signature does not match, so this was not trusted.' },
  RECEIPT_INVALID: { sentence: 'This answer receipt is damaged or was changed, so it cannot be verified.' },
  VAULT_NOT_SET_UP: { sentence: 'Backups are not set up yet. Create your backup wallet first.', action: { open: 'backup', label: 'Set up backups' } },
  VAULT_LOCKED: { sentence: 'The backup wallet is locked. Unlock it with your passphrase.', action: { open: 'backup', label: 'Unlock the wallet' } },
  TARGET_NOT_FOUND: { sentence: 'That backup place is no longer set up.', action: BACKUP },
  STALE_POINTER: {
    sentence: 'The backup place shows an older latest backup than this computer has seen there, so it was not trusted. Choose the backup to restore yourself.',
  },
  LOCK_HELD: { sentence: 'Another Hearth task is using the backup right now. Try again when it has finished.', action: 'retry' },
  DATA_DIR_IN_USE: {
    sentence: {
      desktop: 'These data are open in another Hearth window, so they cannot be restored over. Close it first.',
      server: 'These data are open in another Hearth (the app, a server or a command), so they cannot be restored over. Close it first.',
    },
  },
  CAPTURE_DAMAGED: { sentence: 'The data changed while the backup was being taken, so nothing was recorded. Try again.', action: 'retry' },
  CONNECTION_LOST: {
    sentence: {
      desktop: 'The app lost touch with its background process. Restart Hearth if this keeps happening.',
      server: 'This page cannot reach Hearth. Check that `hearth serve` is still running; the page reconnects by itself.',
    },
    action: 'retry',
  },
  INTERNAL: { sentence: 'Something went wrong inside Hearth. Try again; if it keeps happening, restart Hearth.', action: 'retry' },
} as const satisfies Record<ErrorCode, Explanation>;

/** A command a person would type: `backticked`, or the CLI's name (a word of its own) and a subcommand. */
const COMMAND = /`|(?:^|[\s("'])hearth [a-z]/;

/** Whether a text tells someone to run a command. */
export function mentionsCommand(text: string): boolean {
  return COMMAND.test(text);
}

/**
 * The error for people: its sentence for this host, the server's message as a detail where it
 * is not a command in the desktop app, and the action (a retry only where the caller can retry).
 */
export function humanError(error: ErrorData, host: AppHost, canRetry = false): HumanError {
  const explanation: Explanation = ERROR_EXPLANATIONS[error.code];
  const sentence = typeof explanation.sentence === 'string' ? explanation.sentence : explanation.sentence[host];
  const message = error.message.trim();
  const detail = message === '' || message === sentence || (host === 'desktop' && mentionsCommand(message)) ? null : message;
  return { code: error.code, sentence, detail, action: actionOf(explanation.action, canRetry) };
}

function actionOf(spec: ActionSpec | undefined, canRetry: boolean): ErrorAction | null {
  if (spec === undefined) return null;
  if (spec === 'retry') return canRetry ? { kind: 'retry', label: RETRY_LABEL } : null;
  return { kind: 'open', label: spec.label, href: ERROR_PLACES[spec.open], section: spec.section ?? null };
}

/** One line for a tooltip or a log: the sentence, then the code. */
export function humanErrorText(error: ErrorData, host: AppHost): string {
  const { sentence, detail } = humanError(error, host);
  return `${sentence}${detail ? ` (${detail})` : ''} Details: ${error.code}`;
}
