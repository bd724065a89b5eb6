/** Limits every front end applies the same way; plain data, like vocabulary.ts. */

/** Longest message a user may send, in characters. Longer is MESSAGE_TOO_LARGE. */
export const MAX_MESSAGE_CHARS = 100_000;
