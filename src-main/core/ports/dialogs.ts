import type { SourceKind } from '#contract/vocabulary';

/** Native dialogs and the system file viewer, where the host has them. The headless server has none. */
export interface Dialogs {
  /** Asks the user for a .gguf file; null when they cancel. */
  pickModelFile(): Promise<string | null>;
  /** Asks for a folder or a document to add to a collection; null when they cancel. */
  pickSource(kind: SourceKind): Promise<string | null>;
  /**
   * Opens a document in the system viewer, at a page where the viewer allows it; false when
   * this host cannot open files (the browser UI then opens the server's file link instead).
   */
  openDocument(path: string, page: number | null): Promise<boolean>;
}

/** For hosts without a window (server, CLI, tests): picking or opening a file is not possible there. */
export class NoDialogs implements Dialogs {
  pickModelFile(): Promise<string | null> {
    return Promise.resolve(null);
  }

  pickSource(): Promise<string | null> {
    return Promise.resolve(null);
  }

  openDocument(): Promise<boolean> {
    return Promise.resolve(false);
  }
}
