import { GPU_SETTINGS } from '#contract/vocabulary';
import { choice, flag, integer, text } from './declare/options';

/** The shared option groups, declared once and spread into each command's options. */

export const dataDirOption = {
  'data-dir': text(
    'DIR',
    'Where Hearth keeps its library (default: $HEARTH_DATA_DIR, else the OS app-data folder). The desktop app, the server and the CLI share it.',
  )
    .fromEnv('HEARTH_DATA_DIR')
    .inGroup('library'),
} as const;

export const modelsDirOption = {
  'models-dir': text('DIR', 'Also list the .gguf files of DIR (repeatable)').repeat().inGroup('library'),
} as const;

export const inferenceOptions = {
  gpu: choice('MODE', GPU_SETTINGS, 'auto (default), off, cuda, vulkan or metal ($HEARTH_GPU)').fromEnv('HEARTH_GPU').orElse('auto').inGroup('inference'),
  threads: integer('N', 'CPU threads for inference (default: one per physical core but one, at least 1)', { min: 1, max: 1024 }).inGroup('inference'),
  'embedding-contexts': integer(
    'N',
    'Texts embedded at once when indexing, one embedding context each (default: one per physical core, at most 4, one thread each, as many as fit the memory; with --threads, at most that many)',
    { min: 1, max: 64 },
  ).inGroup('inference'),
} as const;

/** What every command that opens the library takes (and has always accepted). */
export const coreOptions = { ...dataDirOption, ...modelsDirOption, ...inferenceOptions } as const;

/** --json, with what it prints for this command. */
export function jsonOption(help: string) {
  return { json: flag(help) } as const;
}

/** The environment variable that may hold the vault passphrase (never an argv value: `ps` shows those). */
export const PASSPHRASE_ENV = 'HEARTH_VAULT_PASSPHRASE';

/** --passphrase-file; `note` adds when the command needs it. */
export function passphraseOption(note?: string) {
  return {
    'passphrase-file': text(
      'F',
      `The vault passphrase, read from file F (- for standard input; one trailing newline is ignored). Else $${PASSPHRASE_ENV}. Never an argument value: other users can see those in \`ps\`.${note ? `\n${note}` : ''}`,
    ).inGroup('vault'),
  } as const;
}
