import { basename } from 'node:path';
import type { ChunkLocation, Citation, MessageSources, SearchHit } from '#contract/dto';
import type { TranscriptPassage } from '#contract/verify';

/** What the chat needs from the document index. */
export interface SourceRetriever {
  /** Relevant passages for a question, best first (irrelevant ones already left out). */
  retrieve(question: string, collectionIds: string[], signal: AbortSignal): Promise<SearchHit[]>;
  /** A whole document's text, when it is small enough to give whole. */
  documentText(docId: string): Promise<{ text: string } | null>;
  /** Collection names, for saying plainly where nothing was found. */
  collectionNames(collectionIds: string[]): string[];
  /** Throws COLLECTION_NOT_FOUND when an id names no collection. */
  requireCollections(collectionIds: string[]): void;
}

/** Share of the prompt (what is left after the reply's reserve) that retrieved text may take. */
const SOURCE_SHARE = 0.5;
/** A document this much smaller than the budget is given whole rather than as passages. */
const WHOLE_DOCUMENT_SHARE = 0.6;

export const SOURCE_INSTRUCTIONS =
  "Answer the user's question from the numbered sources below, taken from their own documents. " +
  'Cite the sources you use inline, right after the statement they support, as [1], [2]. ' +
  'If the sources do not contain the answer, say so plainly instead of guessing.';

export const NO_SOURCES_INSTRUCTIONS =
  "No passage in the user's documents matched this question. Say so plainly, and do not cite or invent sources.";

/** Tokens of retrieved text a reply may use: half of what the reply's reserve leaves. */
export function sourceBudget(contextSize: number, maxReplyTokens: number): number {
  const reserve = Math.min(maxReplyTokens, Math.floor(contextSize / 2));
  return Math.max(0, Math.floor((contextSize - reserve) * SOURCE_SHARE));
}

export interface BuiltSources {
  sources: MessageSources;
  /** The text added to the system message: instructions and the numbered passages. */
  prompt: string;
}

/**
 * Retrieves passages and fits them into the budget, best first: a passage that does not fit is
 * left out (a smaller one after it may still fit). When the best passage's whole document fits
 * comfortably, the document is given whole as [1]. Nothing found is said plainly.
 */
export async function buildSourceContext(options: {
  retriever: SourceRetriever;
  question: string;
  collectionIds: string[];
  budget: number;
  countTokens: (text: string) => number;
  signal: AbortSignal;
}): Promise<BuiltSources> {
  const { retriever, question, collectionIds, budget, countTokens, signal } = options;
  const base = { collectionIds, budget: { used: 0, total: budget } };
  const where = retriever.collectionNames(collectionIds).join(', ') || 'the chosen collections';
  let hits: SearchHit[];
  try {
    hits = await retriever.retrieve(question, collectionIds, signal);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      sources: { ...base, citations: [], note: `Could not search ${where}: ${message}` },
      prompt: NO_SOURCES_INSTRUCTIONS,
    };
  }
  if (hits.length === 0) {
    return { sources: { ...base, citations: [], note: `No relevant sources found in ${where}.` }, prompt: NO_SOURCES_INSTRUCTIONS };
  }

  const citations: Citation[] = [];
  const blocks: string[] = [];
  let used = 0;
  const add = (hit: SearchHit, text: string, tokens: number, wholeDocument: boolean) => {
    const n = citations.length + 1;
    citations.push({
      n,
      chunkId: hit.chunkId,
      docId: hit.docId,
      path: hit.path,
      title: hit.title,
      heading: hit.heading,
      location: wholeDocument ? { pageStart: null, pageEnd: null, lineStart: null, lineEnd: null } : hit.location,
      text,
      wholeDocument,
    });
    blocks.push(passageBlock({ n, fileName: basename(hit.path), heading: hit.heading, location: hit.location, wholeDocument, text }));
    used += tokens;
  };

  const [best] = hits;
  const whole = best ? await retriever.documentText(best.docId) : null;
  const wholeTokens = whole ? countTokens(whole.text) : Infinity;
  const givenWhole = whole !== null && best !== undefined && wholeTokens <= budget * WHOLE_DOCUMENT_SHARE;
  if (givenWhole) add(best, whole.text, wholeTokens, true);
  for (const hit of hits) {
    if (givenWhole && hit.docId === best!.docId) continue;
    const tokens = countTokens(hit.text);
    if (used + tokens > budget) continue;
    add(hit, hit.text, tokens, false);
  }
  if (citations.length === 0) {
    return {
      sources: { ...base, citations: [], note: `Relevant passages were found in ${where}, but none fits the ${budget}-token budget for sources.` },
      prompt: NO_SOURCES_INSTRUCTIONS,
    };
  }
  return {
    sources: { ...base, budget: { used, total: budget }, citations, note: null, mode: best?.mode ?? null },
    prompt: `${SOURCE_INSTRUCTIONS}\n\n${blocks.join('\n\n')}`,
  };
}

/** What the prompt says of one passage: its number, where it is from, its text. */
export type PromptPassage = Pick<TranscriptPassage, 'n' | 'fileName' | 'heading' | 'location' | 'wholeDocument' | 'text'>;

/** One passage as the system message gives it: `[n] file — heading — location`, then its text. */
export function passageBlock(passage: PromptPassage): string {
  const parts = [passage.fileName];
  if (!passage.wholeDocument) {
    if (passage.heading.length > 0) parts.push(passage.heading.join(' › '));
    const location = locationLabel(passage.location);
    if (location) parts.push(location);
  }
  return `[${passage.n}] ${parts.join(' — ')}\n${passage.text}`;
}

/**
 * The text a scoped chat adds to the system message, from its passages in prompt order (what
 * buildSourceContext wrote): instructions and the numbered passages, or the no-sources note.
 */
export function sourcePromptFor(passages: readonly PromptPassage[]): string {
  return passages.length === 0 ? NO_SOURCES_INSTRUCTIONS : `${SOURCE_INSTRUCTIONS}\n\n${passages.map(passageBlock).join('\n\n')}`;
}

export function locationLabel(location: ChunkLocation): string | null {
  if (location.pageStart !== null) {
    return location.pageEnd !== null && location.pageEnd !== location.pageStart
      ? `pages ${location.pageStart}–${location.pageEnd}`
      : `page ${location.pageStart}`;
  }
  if (location.lineStart !== null) {
    return location.lineEnd !== null && location.lineEnd !== location.lineStart
      ? `lines ${location.lineStart}–${location.lineEnd}`
      : `line ${location.lineStart}`;
  }
  return null;
}
