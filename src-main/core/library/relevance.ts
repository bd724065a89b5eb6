import type { SearchHit } from '#contract/dto';

/**
 * Full-text and vector search always return *something*; for a chat, a passage counts as
 * relevant only when it shares a content word with the question (not "the", "what", ...) or
 * its embedding is close enough, where "close enough" is what the channel calibration measured
 * for this model on this corpus (channelCalibration.ts), or never when the model's similarities
 * do not tell related from unrelated passages. Leaving the rest out is what lets Hearth say "no relevant
 * sources found" instead of citing noise.
 */
const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further had has have having he her here hers herself him himself his ' +
    'how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves ' +
    'out over own same she should so some such than that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with would you your yours ' +
    'yourself yourselves tell show explain describe give find know say said please document documents file files'
  ).split(' '),
);

export function contentTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => (w.length >= 3 || /\p{N}/u.test(w)) && !STOP_WORDS.has(w)))];
}

export function isRelevant(hit: SearchHit, queryTerms: readonly string[], minSimilarity: number | null): boolean {
  if (minSimilarity !== null && hit.similarity !== null && hit.similarity >= minSimilarity) return true;
  if (queryTerms.length === 0) return false;
  const haystack = new Set(contentTerms(`${hit.title ?? ''} ${hit.heading.join(' ')} ${hit.path} ${hit.text}`));
  return queryTerms.some((term) => haystack.has(term));
}
