import { pathToFileURL } from 'node:url';

/**
 * Which URLs are the app's own page: the built renderer's index.html on disk, or, in
 * development only, the electron-vite dev server. IPC and navigation trust nothing else.
 */
export class RendererOrigin {
  private readonly indexUrl: string;

  constructor(
    readonly indexPath: string,
    readonly devServerUrl: string | null,
  ) {
    this.indexUrl = pathToFileURL(indexPath).href;
  }

  /** The URL the window loads. */
  get startUrl(): string {
    return this.devServerUrl ?? this.indexUrl;
  }

  isAppUrl(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (this.devServerUrl !== null) return parsed.origin === new URL(this.devServerUrl).origin;
    // The same file, whatever its query or #fragment.
    parsed.hash = '';
    parsed.search = '';
    return parsed.protocol === 'file:' && parsed.href === this.indexUrl;
  }
}
