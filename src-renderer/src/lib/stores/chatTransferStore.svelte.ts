import type { ThreadExportFormat, ThreadImportResult } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import { postImport } from '../api/importUpload';
import { downloadFile } from '../util/download';
import type { ToastStore } from './toastStore.svelte';

/**
 * What one message to the server may carry (its WebSocket frame limit, less room for the
 * envelope): a bigger file (a ChatGPT export often is) is posted over HTTP instead (importUpload.ts).
 */
const MAX_SOCKET_IMPORT_BYTES = 2 * 1024 * 1024 - 64 * 1024;

/** Export of one chat or all as a file, and import of a Hearth JSON or ChatGPT export. */
export class ChatTransferStore {
  busy = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    /** Whether calls travel over the local server's WebSocket (a browser), which limits their size. */
    private readonly overSocket: () => boolean,
  ) {}

  /** Downloads one chat (threadId) or every chat. */
  async export(threadId: string | undefined, format: ThreadExportFormat): Promise<void> {
    this.busy = true;
    try {
      const result = await this.bridge.call('threads.export', { ...(threadId ? { threadId } : {}), format });
      if (!result.ok) return this.toasts.error(result.error);
      downloadFile(result.value);
    } finally {
      this.busy = false;
    }
  }

  /** Reads a chosen file and imports its chats; null when nothing was imported (the toast says why). */
  async import(file: File): Promise<ThreadImportResult | null> {
    this.busy = true;
    try {
      const result =
        this.overSocket() && file.size > MAX_SOCKET_IMPORT_BYTES
          ? await postImport(file)
          : await this.bridge.call('threads.import', { content: await file.text() });
      if (!result.ok) {
        this.toasts.error(result.error);
        return null;
      }
      const n = result.value.threads.length;
      const from = result.value.format === 'chatgpt' ? 'the ChatGPT export' : 'the Hearth export';
      this.toasts.info(n === 0 ? `${file.name} holds no chats.` : `Imported ${n} chat${n === 1 ? '' : 's'} from ${from}.`);
      return result.value;
    } finally {
      this.busy = false;
    }
  }
}
