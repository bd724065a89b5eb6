import { createHash, randomBytes } from 'node:crypto';

/** How many unused codes are kept; asking for more forgets the oldest. */
const MAX_OUTSTANDING = 8;

/**
 * Codes for the URLs `hearth serve` prints: each opens one browser session, once. The server
 * keeps only their SHA-256 digests, and a redeemed code is forgotten at once, so a code that
 * ends up in a browser's history or a terminal's scrollback is useless after its first use.
 */
export class OneTimeCodes {
  /** Digest (hex) of each unused code, oldest first (Map keeps insertion order). */
  private readonly unused = new Map<string, true>();

  issue(): string {
    const code = randomBytes(32).toString('base64url');
    this.unused.set(digest(code), true);
    while (this.unused.size > MAX_OUTSTANDING) {
      const oldest = this.unused.keys().next().value;
      if (oldest === undefined) break;
      this.unused.delete(oldest);
    }
    return code;
  }

  /**
   * True once per issued code: the first redemption consumes it. Looked up by digest, so the
   * time a lookup takes says nothing about how close a guess was.
   */
  redeem(candidate: string): boolean {
    return this.unused.delete(digest(candidate));
  }

  get outstanding(): number {
    return this.unused.size;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
