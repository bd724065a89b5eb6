import { pathToFileURL } from 'node:url';
import { dialog, shell, type BrowserWindow, type OpenDialogOptions } from 'electron';
import type { SourceKind } from '#contract/vocabulary';
import type { Dialogs } from '../core/ports/dialogs';

/** Native file dialogs, attached to the app window when there is one, and the system viewer. */
export class ElectronDialogs implements Dialogs {
  constructor(private readonly parent: () => BrowserWindow | null) {}

  pickModelFile(): Promise<string | null> {
    return this.pick({
      title: 'Choose a model',
      buttonLabel: 'Choose',
      properties: ['openFile'],
      filters: [{ name: 'GGUF models', extensions: ['gguf'] }],
    });
  }

  pickSource(kind: SourceKind): Promise<string | null> {
    return this.pick({
      title: kind === 'folder' ? 'Add a folder of documents' : 'Add a document',
      buttonLabel: 'Add',
      properties: [kind === 'folder' ? 'openDirectory' : 'openFile'],
    });
  }

  async openDocument(path: string, page: number | null): Promise<boolean> {
    // PDFs open at the cited page in the default browser's viewer (a file URL with #page);
    // anything else goes to the system's default app for the file type.
    if (page !== null && path.toLowerCase().endsWith('.pdf')) {
      await shell.openExternal(`${pathToFileURL(path).href}#page=${page}`);
      return true;
    }
    const error = await shell.openPath(path);
    return error === '';
  }

  private async pick(options: OpenDialogOptions): Promise<string | null> {
    const parent = this.parent();
    const result = parent && !parent.isDestroyed() ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  }
}
