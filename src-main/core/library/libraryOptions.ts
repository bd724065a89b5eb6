export interface LibraryOptions {
  /** Largest chunk in tokens of the embedding model (capped by the model's context). */
  chunkTokens: number;
  overlapTokens: number;
  /** Chunks written to LanceDB per commit (with their documents' SQLite rows right after). */
  writeBatchChunks: number;
  /** Watch folder sources for changes while the core runs. */
  watch: boolean;
  /** Quiet period after the last change before a watched folder is rescanned. */
  watchDebounceMs: number;
  /**
   * Cosine similarity from which a passage counts as relevant for chat without sharing a word
   * with the question. null, the default: the bar the channel calibration measured for the
   * model on this corpus (channelCalibration.ts), or none when its similarities mean nothing.
   */
  minSimilarity: number | null;
}

export const DEFAULT_LIBRARY_OPTIONS: LibraryOptions = {
  chunkTokens: 384,
  overlapTokens: 48,
  writeBatchChunks: 256,
  watch: true,
  watchDebounceMs: 500,
  minSimilarity: null,
};
