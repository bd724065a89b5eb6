/** Native dialogs the host may offer. The headless server has none. */
export interface Dialogs {
  /** Asks the user for a .gguf file; null when they cancel. */
  pickModelFile(): Promise<string | null>;
}

/** For hosts without a window (server, CLI, tests): picking a file is not possible there. */
export class NoDialogs implements Dialogs {
  pickModelFile(): Promise<string | null> {
    return Promise.resolve(null);
  }
}
