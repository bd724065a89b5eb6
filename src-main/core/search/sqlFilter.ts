import type { DocumentFormatName } from '#contract/vocabulary';

/**
 * What a search may be narrowed to. Every field is optional: `undefined` means "no
 * restriction", an empty array means "nothing matches" (a filter on an empty selection must
 * never widen into "everything").
 */
export interface SearchFilter {
  collectionIds?: readonly string[];
  docIds?: readonly string[];
  /** Matches paths that start with this exact string (no wildcards). */
  pathPrefix?: string;
  formats?: readonly DocumentFormatName[];
}

/**
 * A SQL string literal for LanceDB's (DataFusion's) dialect: single quotes doubled and nothing
 * else, since backslash is not an escape character there. Every value that reaches a `where`
 * goes through this function or `sqlIn`; nothing user-supplied is ever spliced in raw.
 */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `column IN ('a', 'b')`, or `FALSE` for an empty list. `column` must be a trusted identifier. */
export function sqlIn(column: string, values: readonly string[]): string {
  if (values.length === 0) return 'FALSE';
  return `${column} IN (${[...new Set(values)].map(sqlString).join(', ')})`;
}

/**
 * The `where` clause for a filter, or null when it restricts nothing. Path prefixes use
 * `starts_with`, so `%` and `_` in a path are plain characters rather than LIKE wildcards.
 */
export function buildWhere(filter: SearchFilter | undefined): string | null {
  if (!filter) return null;
  const clauses: string[] = [];
  if (filter.collectionIds !== undefined) clauses.push(sqlIn('collection_id', filter.collectionIds));
  if (filter.docIds !== undefined) clauses.push(sqlIn('doc_id', filter.docIds));
  if (filter.pathPrefix !== undefined && filter.pathPrefix !== '') clauses.push(`starts_with(path, ${sqlString(filter.pathPrefix)})`);
  if (filter.formats !== undefined) clauses.push(sqlIn('format', filter.formats));
  if (clauses.length === 0) return null;
  return clauses.map((clause) => `(${clause})`).join(' AND ');
}
