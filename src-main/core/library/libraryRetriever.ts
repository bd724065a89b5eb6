import type { SearchHit } from '#contract/dto';
import type { LibraryCatalog } from './libraryCatalog';
import type { LibrarySearch } from './librarySearch';
import { contentTerms, isRelevant } from './relevance';

/** Passages a chat asks for at most, before the relevance filter. */
export const RETRIEVE_LIMIT = 8;

/**
 * What a chat scoped to collections reads from the library (the chat's SourceRetriever):
 * relevant passages for a question, whole documents, and the collections' names. Search
 * always returns something; this keeps only passages that share a content word with the
 * question or come close enough to it by the similarity bar the channel calibration measured
 * for the active index (none when the model's similarities mean nothing), so an unrelated
 * question finds nothing rather than noise.
 */
export class LibraryRetriever {
  constructor(
    private readonly catalog: LibraryCatalog,
    private readonly library: LibrarySearch,
  ) {}

  /** Relevant passages for a question, best first. */
  async retrieve(question: string, collectionIds: string[], signal: AbortSignal): Promise<SearchHit[]> {
    const terms = contentTerms(question);
    const hits = await this.library.search({ query: question, collectionIds, limit: RETRIEVE_LIMIT }, signal);
    const bar = await this.library.similarityThreshold();
    return hits.filter((hit) => isRelevant(hit, terms, bar));
  }

  /** A whole document's text from the index, or null when it has no chunks there. */
  documentText(docId: string): Promise<{ text: string; tokenCount: number } | null> {
    return this.library.documentText(docId);
  }

  /** The collections' names, for saying plainly where nothing was found. */
  collectionNames(collectionIds: string[]): string[] {
    return this.catalog.collectionNames(collectionIds);
  }

  /** Checks that a chat is scoped to collections that exist (COLLECTION_NOT_FOUND otherwise). */
  requireCollections(collectionIds: string[]): void {
    this.catalog.requireCollections(collectionIds);
  }
}
