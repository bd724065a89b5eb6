/** Limits every front end applies the same way; plain data, like vocabulary.ts. */

/** Longest message a user may send, in characters. Longer is MESSAGE_TOO_LARGE. */
export const MAX_MESSAGE_CHARS = 100_000;

/** Largest chat import (a Hearth JSON export or a ChatGPT conversations.json), in characters. */
export const MAX_IMPORT_CHARS = 64 * 1024 * 1024;
