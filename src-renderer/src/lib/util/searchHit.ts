/** How a search hit is shown: its query words marked, and a plain-words cue for how well it matches. */
import type { SearchHit } from '#contract/dto';

export type MatchStrength = 'strong' | 'good' | 'weak';

export interface Highlighted {
  text: string;
  match: boolean;
}

/** Words too common to be worth marking. */
const STOPWORDS = new Set(
  'a an and are as at be by do does for from how i in is it of on or the to was what when where which who why with'.split(' '),
);

/** The query's words worth marking: letters and digits, two or more, lower-cased, once each. */
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((word) => word.length >= 2 && !STOPWORDS.has(word)))];
}

/**
 * The text cut into marked and unmarked parts: a word is marked when it starts with a query
 * term ("orchid" marks "orchids"), so the words the search matched stand out.
 */
export function highlightParts(text: string, terms: readonly string[]): Highlighted[] {
  if (terms.length === 0) return text ? [{ text, match: false }] : [];
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})[\\p{L}\\p{N}]*`, 'giu');
  const parts: Highlighted[] = [];
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    const start = found.index;
    if (start > last) parts.push({ text: text.slice(last, start), match: false });
    parts.push({ text: found[0], match: true });
    last = start + found[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), match: false });
  return parts;
}

/**
 * About `length` characters of the passage, starting early enough that the first marked word is
 * in view: from the start when it is near, else from a word boundary a little before it, with "…".
 */
export function snippetAround(text: string, terms: readonly string[], length = 280): string {
  const first = highlightParts(text, terms).findIndex((part) => part.match);
  const offset = first < 0 ? 0 : highlightParts(text, terms).slice(0, first).reduce((sum, part) => sum + part.text.length, 0);
  let start = 0;
  if (offset > length * 0.6) {
    start = offset - Math.floor(length * 0.25);
    const space = text.lastIndexOf(' ', start);
    if (space > 0 && start - space < 40) start = space + 1;
  }
  const end = start + length;
  const body = text.slice(start, end).trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}

/** The cue's bands over a relevance from 0 (barely) to 1 (the best this search could give). */
export function matchStrength(relevance: number): MatchStrength {
  if (relevance >= 0.75) return 'strong';
  if (relevance >= 0.4) return 'good';
  return 'weak';
}

export const MATCH_LABEL: Readonly<Record<MatchStrength, string>> = { strong: 'Strong match', good: 'Good match', weak: 'Weak match' };

/** Each hit's relevance as a share of the best score in the list, for hits that carry only a raw score. */
export function relativeRelevance(scores: readonly number[]): number[] {
  const best = Math.max(0, ...scores);
  return scores.map((score) => (best > 0 ? Math.max(0, Math.min(1, score / best)) : 0));
}

/**
 * Each hit's relevance, 0..1: the one the search computed, where the hits carry it (a share of the
 * best score this search could give), else relativeRelevance of their scores.
 */
export function hitRelevance(hits: readonly Pick<SearchHit, 'score'>[]): number[] {
  const given = hits.map((hit) => ('relevance' in hit && typeof hit.relevance === 'number' ? hit.relevance : null));
  if (given.every((value): value is number => value !== null)) return given;
  return relativeRelevance(hits.map((hit) => hit.score));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Which searches found the passage, for the cue's tooltip: "Found by its words (#1) and by meaning (#4)". */
export function foundBy(hit: Pick<SearchHit, 'bm25Rank' | 'vectorRank'>): string {
  const ways = [
    hit.bm25Rank !== null ? `by its words (#${hit.bm25Rank})` : null,
    hit.vectorRank !== null ? `by meaning (#${hit.vectorRank})` : null,
  ].filter((way): way is string => way !== null);
  return ways.length > 0 ? `Found ${ways.join(' and ')}` : 'Found';
}
