import type { ChunkLocation, Citation, SearchHit } from '#contract/dto';

/** A passage of one of the user's documents, as the passage panel shows it. */
export interface Passage {
  /** "Source [2]" for a citation, "Search result" for a hit. */
  label: string;
  docId: string;
  chunkId: string;
  path: string;
  title: string | null;
  heading: string[];
  location: ChunkLocation;
  text: string;
  wholeDocument: boolean;
  isPdf: boolean;
}

export function fromCitation(citation: Citation): Passage {
  return {
    label: `Source [${citation.n}]`,
    docId: citation.docId,
    chunkId: citation.chunkId,
    path: citation.path,
    title: citation.title,
    heading: citation.heading,
    location: citation.location,
    text: citation.text,
    wholeDocument: citation.wholeDocument,
    isPdf: isPdfPath(citation.path),
  };
}

export function fromSearchHit(hit: SearchHit): Passage {
  return {
    label: 'Search result',
    docId: hit.docId,
    chunkId: hit.chunkId,
    path: hit.path,
    title: hit.title,
    heading: hit.heading,
    location: hit.location,
    text: hit.text,
    wholeDocument: false,
    isPdf: hit.format === 'pdf' || isPdfPath(hit.path),
  };
}

export function isPdfPath(path: string): boolean {
  return /\.pdf$/i.test(path);
}

/** The last part of a path, for either separator. */
export function fileName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** `path` relative to the folder `base` when it lies inside it, else the path as it is. */
export function relativePath(path: string, base: string): string {
  const folder = base.replace(/[\\/]+$/, '');
  if (path.length > folder.length + 1 && path.startsWith(folder) && /[\\/]/.test(path[folder.length] ?? '')) {
    return path.slice(folder.length + 1);
  }
  return path;
}

/** "page 3", "pages 3–4", "lines 12–30", or null when the passage has no known place. */
export function locationText(location: ChunkLocation): string | null {
  const { pageStart, pageEnd, lineStart, lineEnd } = location;
  if (pageStart !== null) return pageEnd !== null && pageEnd !== pageStart ? `pages ${pageStart}–${pageEnd}` : `page ${pageStart}`;
  if (lineStart !== null) return lineEnd !== null && lineEnd !== lineStart ? `lines ${lineStart}–${lineEnd}` : `line ${lineStart}`;
  return null;
}

/** Headings above a passage, outermost first: "Guide › Setup › Linux". */
export function headingText(heading: readonly string[]): string {
  return heading.join(' › ');
}

/**
 * Where the local server serves a document's original file: relative, so it works wherever
 * the UI is served from, and with the page for PDF viewers (`#page=N`).
 */
export function documentFileHref(passage: Pick<Passage, 'docId' | 'isPdf' | 'location'>): string {
  const page = passage.isPdf ? passage.location.pageStart : null;
  return `documents/${encodeURIComponent(passage.docId)}/file${page !== null ? `#page=${page}` : ''}`;
}
