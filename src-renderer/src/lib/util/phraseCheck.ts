/**
 * The recovery-phrase check after a wallet is created: a few positions asked back, chosen at
 * random so nobody learns to type the same three words, always distinct and in order.
 */
export function pickCheckPositions(wordCount: number, count: number, random: () => number = Math.random): number[] {
  const wanted = Math.min(count, wordCount);
  const chosen = new Set<number>();
  while (chosen.size < wanted) chosen.add(Math.floor(random() * wordCount));
  return [...chosen].sort((a, b) => a - b);
}

/** BIP-39 words are lower-case ASCII; what was typed is compared trimmed and case-blind. */
export function wordMatches(typed: string, word: string): boolean {
  return word.length > 0 && typed.trim().toLowerCase() === word.toLowerCase();
}
