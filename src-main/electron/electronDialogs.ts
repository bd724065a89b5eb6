import { dialog, type BrowserWindow, type OpenDialogOptions } from 'electron';
import type { Dialogs } from '../core/ports/dialogs';

/** Native file dialogs, attached to the app window when there is one. */
export class ElectronDialogs implements Dialogs {
  constructor(private readonly parent: () => BrowserWindow | null) {}

  async pickModelFile(): Promise<string | null> {
    const options: OpenDialogOptions = {
      title: 'Choose a model',
      buttonLabel: 'Choose',
      properties: ['openFile'],
      filters: [{ name: 'GGUF models', extensions: ['gguf'] }],
    };
    const parent = this.parent();
    const result = parent && !parent.isDestroyed() ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  }
}
