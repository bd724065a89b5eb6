import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { fileError } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';

/** A latest-snapshot record as this machine last saw it on one target. */
export interface SeenPointer {
  root: string;
  sequence: number;
  createdAt: string;
}

const seenSchema = z.strictObject({
  root: z.string().min(1),
  sequence: z.number().int().nonnegative(),
  createdAt: z.string(),
  seenAt: z.string(),
});
const ledgerSchema = z.strictObject({ version: z.literal(1), seen: z.record(z.string(), seenSchema) });
type LedgerFile = z.infer<typeof ledgerSchema>;

/**
 * What this machine has seen of each vault's latest-snapshot record on each target (the newest
 * sequence, its time and root), in `vault/pointers-seen.json`: a record older than that is an
 * old one put back, and a restore refuses it (STALE_POINTER). Kept on this machine only
 * (snapshots leave vault/ out). Reads and writes are synchronous and whole, so calls in one
 * process never interleave; a write goes through a temp file and a rename.
 */
export class PointerLedger {
  constructor(private readonly file: string) {}

  /** The ledger of the vault folder `<dataDir>/vault`. */
  static inVault(vaultDir: string): PointerLedger {
    return new PointerLedger(join(vaultDir, 'pointers-seen.json'));
  }

  /** One vault (the pointer's name, derived from the wallet) on one target (its kind and place). */
  static key(pointerName: string, kind: string, location: string): string {
    return `${pointerName} ${kind}:${location}`;
  }

  seen(key: string): SeenPointer | null {
    const entry = this.read().seen[key];
    return entry ? { root: entry.root, sequence: entry.sequence, createdAt: entry.createdAt } : null;
  }

  /** Remembers pointer unless what is remembered is newer (a higher sequence, or a later time at the same one). */
  record(key: string, pointer: SeenPointer): void {
    const ledger = this.read();
    const known = ledger.seen[key];
    if (known && compareSeen(known, pointer) > 0) return;
    ledger.seen[key] = { root: pointer.root, sequence: pointer.sequence, createdAt: pointer.createdAt, seenAt: new Date().toISOString() };
    this.write(ledger);
  }

  private read(): LedgerFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, seen: {} };
      throw fileError(error, this.file);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = ledgerSchema.safeParse(value);
    if (!parsed.success) {
      throw new HearthError(
        'CORRUPT_FILE',
        `${this.file} (the latest-snapshot records this machine has seen) is damaged. Delete it to start that record over; until then restores without a CID and pointer updates stop here.`,
      );
    }
    return parsed.data;
  }

  private write(ledger: LedgerFile): void {
    const temp = `${this.file}.${randomUUID()}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileSync(temp, `${JSON.stringify(ledger, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(temp, this.file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw fileError(error, this.file);
    }
  }
}

/** Positive when a is newer than b: by sequence, then by time. */
export function compareSeen(a: SeenPointer, b: SeenPointer): number {
  if (a.sequence !== b.sequence) return a.sequence - b.sequence;
  return (Date.parse(a.createdAt) || 0) - (Date.parse(b.createdAt) || 0);
}
