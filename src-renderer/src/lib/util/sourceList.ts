import type { ChunkLocation, Citation } from '#contract/dto';

/** One entry of a reply's source list: citations of the same place in the same file, shown once. */
export interface SourceEntry {
  /** The first of them (lowest number): what the entry opens. */
  citation: Citation;
  /** Every citation number it stands for, ascending. */
  numbers: number[];
  /** Where in the file, over all of them: the union of their ranges. */
  location: ChunkLocation;
  wholeDocument: boolean;
}

/**
 * Merges citations of one file (by path: the same file may be in two collections) whose places
 * are equal or overlap: the same page or line range, one range inside or across another, or the
 * whole document and anything in it. Entries keep the order of their first citation.
 */
export function mergeSources(citations: readonly Citation[]): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const citation of [...citations].sort((a, b) => a.n - b.n)) {
    const same = entries.find((entry) => entry.citation.path === citation.path && overlaps(entry, citation));
    if (!same) {
      entries.push({ citation, numbers: [citation.n], location: { ...citation.location }, wholeDocument: citation.wholeDocument });
      continue;
    }
    same.numbers.push(citation.n);
    same.wholeDocument ||= citation.wholeDocument;
    same.location = union(same.location, citation.location);
  }
  return entries;
}

function overlaps(entry: SourceEntry, citation: Citation): boolean {
  if (entry.wholeDocument || citation.wholeDocument || entry.citation.chunkId === citation.chunkId) return true;
  const a = entry.location;
  const b = citation.location;
  return rangesOverlap(a.pageStart, a.pageEnd, b.pageStart, b.pageEnd) || rangesOverlap(a.lineStart, a.lineEnd, b.lineStart, b.lineEnd);
}

function rangesOverlap(aStart: number | null, aEnd: number | null, bStart: number | null, bEnd: number | null): boolean {
  if (aStart === null || bStart === null) return false;
  return aStart <= (bEnd ?? bStart) && bStart <= (aEnd ?? aStart);
}

function union(a: ChunkLocation, b: ChunkLocation): ChunkLocation {
  const [pageStart, pageEnd] = unionRange(a.pageStart, a.pageEnd, b.pageStart, b.pageEnd);
  const [lineStart, lineEnd] = unionRange(a.lineStart, a.lineEnd, b.lineStart, b.lineEnd);
  return { pageStart, pageEnd, lineStart, lineEnd };
}

function unionRange(aStart: number | null, aEnd: number | null, bStart: number | null, bEnd: number | null): [number | null, number | null] {
  if (aStart === null || bStart === null) return [aStart ?? bStart, aStart === null ? bEnd : aEnd];
  return [Math.min(aStart, bStart), Math.max(aEnd ?? aStart, bEnd ?? bStart)];
}
