/** Limits every front end applies the same way; plain data, like vocabulary.ts. */

/** Longest message a user may send, in characters. Longer is MESSAGE_TOO_LARGE. */
export const MAX_MESSAGE_CHARS = 100_000;

/** Largest chat import (a Hearth JSON export or a ChatGPT conversations.json), in characters. */
export const MAX_IMPORT_CHARS = 64 * 1024 * 1024;

/** Where the desktop app serves the local API (/v1, /mcp) on 127.0.0.1 while that setting is on. */
export const DESKTOP_API_PORT = 11_800;
