import { realpathSync } from 'node:fs';
import { sep } from 'node:path';

/** A source document as the library lists it, for a snapshot that includes documents. */
export interface SnapshotDocument {
  sourceId: string;
  sourceRoot: string;
  path: string;
}

/**
 * The documents a snapshot may copy: none from inside the data directory. Its own files are
 * captured by name (hearth.db, index/, models/); anything else there (secrets.json and
 * secret.key, secrets.os.json, vault/ with the keystore, logs) must never leave this machine
 * in a snapshot, even when a library source folder happens to contain the data directory.
 * Paths are compared after resolving links. Returns what is kept and what was left out.
 */
export function documentsOutside(dataDir: string, documents: SnapshotDocument[]): { kept: SnapshotDocument[]; leftOut: string[] } {
  const inside = `${real(dataDir)}${sep}`;
  const kept: SnapshotDocument[] = [];
  const leftOut: string[] = [];
  for (const doc of documents) {
    if (`${real(doc.path)}${sep}`.startsWith(inside)) leftOut.push(doc.path);
    else kept.push(doc);
  }
  return { kept, leftOut };
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
