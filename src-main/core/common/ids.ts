import { randomUUID } from 'node:crypto';

/** Sortable enough for humans, unique enough for us: a prefix plus a random UUID. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
