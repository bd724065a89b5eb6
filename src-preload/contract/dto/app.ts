/** The app: what it is and where it runs, and the saved settings. */

import type { AppHost } from '../vocabulary';
import type { GenerationParams, GenerationPreset } from './chat';

export interface AppInfo {
  version: string;
  dataDir: string;
  /** 'desktop' when an Electron shell hosts the UI, 'server' for the headless server. */
  host: AppHost;
  canPickFiles: boolean;
  /** Whether this Hearth can switch to another data folder while it runs (app.switchDataDir). */
  canSwitchDataDir: boolean;
  limits: { maxMessageChars: number };
}

export interface Settings extends GenerationParams {
  contextSize: number | null;
  /** Unload the model after this many minutes without use; 0 keeps it loaded. */
  idleUnloadMinutes: number;
  /** Hugging Face (or a mirror) base URL for search and downloads. */
  hubEndpoint: string;
  /** Make a signed answer receipt for every reply (it takes effect once a wallet exists). */
  answerReceipts: boolean;
  /** Read scanned PDF pages and PNG/JPEG images by OCR (English, on this machine); off by default, as it takes seconds a page. */
  ocr: boolean;
  /** Desktop app: serve the local API (OpenAI/Anthropic-compatible, MCP) on 127.0.0.1. `hearth serve` always does. */
  localApi: boolean;
  presets: GenerationPreset[];
  /** Also serve the API and MCP (API tokens only) to other devices on the network; needs an API token. */
  localApiLan: boolean;
}
