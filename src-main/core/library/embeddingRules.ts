import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ModelRow } from '../storage/modelRepository';

/**
 * What an embedding model wants put before a text, by role. Most retrieval embedders are
 * trained with a query instruction or with query/document prefixes and lose much of their
 * quality without them. The rules are matched on what the GGUF says of itself (its
 * `general.architecture`, which names nomic-bert and gemma-embedding outright, and its name)
 * and on the file name, against the model cards of the families Hearth's catalog offers
 * and their close kin.
 */
export interface EmbeddingRules {
  /** Which family the rule is for; 'plain' when the model has none. */
  family: string;
  queryPrefix: string;
  documentPrefix: string;
}

export type EmbeddingRole = 'query' | 'document';

const BGE_QUERY = 'Represent this sentence for searching relevant passages: ';

/** First match wins; patterns run on `architecture name file`, lower-cased. */
const RULES: readonly (readonly [RegExp, EmbeddingRules])[] = [
  [/nomic-bert|nomic-embed/, { family: 'nomic-embed-text', queryPrefix: 'search_query: ', documentPrefix: 'search_document: ' }],
  [/gemma-embedding|embeddinggemma/, { family: 'embeddinggemma', queryPrefix: 'task: search result | query: ', documentPrefix: 'title: none | text: ' }],
  [
    /qwen3[-_ ]?embedding/,
    { family: 'qwen3-embedding', queryPrefix: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:', documentPrefix: '' },
  ],
  [/\bbge-(small|base|large)-(en|zh)/, { family: 'bge', queryPrefix: BGE_QUERY, documentPrefix: '' }],
  [/mxbai-embed-large|snowflake-arctic-embed/, { family: 'bge-style', queryPrefix: BGE_QUERY, documentPrefix: '' }],
  [/(^|[^a-z0-9])(multilingual-)?e5-(small|base|large|mistral)/, { family: 'e5', queryPrefix: 'query: ', documentPrefix: 'passage: ' }],
];

export const PLAIN_RULES: EmbeddingRules = { family: 'plain', queryPrefix: '', documentPrefix: '' };

export function embeddingRules(model: Pick<ModelRow, 'name' | 'path' | 'architecture'>): EmbeddingRules {
  const haystack = `${model.architecture ?? ''} ${model.name} ${basename(model.path)}`.toLowerCase();
  return RULES.find(([pattern]) => pattern.test(haystack))?.[1] ?? PLAIN_RULES;
}

/** The exact text the model embeds for a text in a role. */
export function embeddingText(rules: EmbeddingRules, text: string, role: EmbeddingRole): string {
  return `${role === 'query' ? rules.queryPrefix : rules.documentPrefix}${text}`;
}

/**
 * Short and stable: stored in the index key, so a model whose rules change (or a model
 * swapped for one with other rules) gets a new table and its documents are embedded again.
 * 'plain' for no rules.
 */
export function rulesFingerprint(rules: EmbeddingRules): string {
  if (rules.queryPrefix === '' && rules.documentPrefix === '') return 'plain';
  return createHash('sha256').update(JSON.stringify([rules.queryPrefix, rules.documentPrefix])).digest('hex').slice(0, 8);
}
