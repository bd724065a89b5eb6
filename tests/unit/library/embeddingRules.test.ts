import { describe, expect, it } from 'vitest';
import { activeIndexFits, indexKey } from '../../../src-main/core/library/activeIndex';
import { embeddingRules, embeddingText, PLAIN_RULES, rulesFingerprint } from '../../../src-main/core/library/embeddingRules';
import type { ModelRow } from '../../../src-main/core/storage/modelRepository';

const model = (name: string, file: string, architecture: string | null = 'llama'): Pick<ModelRow, 'name' | 'path' | 'architecture'> => ({
  name,
  path: `/models/${file}`,
  architecture,
});

describe('embedding rules per model', () => {
  it('gives each catalog family its documented query and document text, exactly', () => {
    const nomic = embeddingRules(model('Nomic Embed Text v1.5', 'nomic-embed-text-v1.5.Q8_0.gguf', 'nomic-bert'));
    expect(embeddingText(nomic, 'what is rust?', 'query')).toBe('search_query: what is rust?');
    expect(embeddingText(nomic, 'Rust is a language.', 'document')).toBe('search_document: Rust is a language.');

    const bge = embeddingRules(model('bge-small-en-v1.5', 'bge-small-en-v1.5-q8_0.gguf', 'bert'));
    expect(embeddingText(bge, 'ferry times', 'query')).toBe('Represent this sentence for searching relevant passages: ferry times');
    expect(embeddingText(bge, 'The ferry sails at 9.', 'document')).toBe('The ferry sails at 9.');

    const gemma = embeddingRules(model('EmbeddingGemma 300M', 'embeddinggemma-300M-Q8_0.gguf', 'gemma-embedding'));
    expect(embeddingText(gemma, 'ferry times', 'query')).toBe('task: search result | query: ferry times');
    expect(embeddingText(gemma, 'The ferry sails at 9.', 'document')).toBe('title: none | text: The ferry sails at 9.');

    const qwen = embeddingRules(model('Qwen3 Embedding 0.6B', 'Qwen3-Embedding-0.6B-Q8_0.gguf', 'qwen3'));
    expect(embeddingText(qwen, 'ferry times', 'query')).toBe(
      'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:ferry times',
    );
    expect(embeddingText(qwen, 'The ferry sails at 9.', 'document')).toBe('The ferry sails at 9.');

    const e5 = embeddingRules(model('multilingual-e5-small', 'multilingual-e5-small-q8_0.gguf', 'bert'));
    expect(embeddingText(e5, 'ferry times', 'query')).toBe('query: ferry times');
    expect(embeddingText(e5, 'The ferry sails at 9.', 'document')).toBe('passage: The ferry sails at 9.');
  });

  it('reads the GGUF architecture even when the name and file say nothing', () => {
    expect(embeddingRules(model('my embedder', 'model.gguf', 'nomic-bert')).family).toBe('nomic-embed-text');
    expect(embeddingRules(model('my embedder', 'model.gguf', 'gemma-embedding')).family).toBe('embeddinggemma');
  });

  it('leaves other models plain: bge-m3, generative models, the test models', () => {
    for (const m of [model('bge-m3', 'bge-m3-Q8_0.gguf', 'bert'), model('Qwen2.5 0.5B Instruct', 'qwen2.5-0.5b-instruct-q4_k_m.gguf', 'qwen2'), model('stories260K', 'stories260K.gguf')]) {
      expect(embeddingRules(m)).toEqual(PLAIN_RULES);
      expect(embeddingText(embeddingRules(m), 'x', 'query')).toBe('x');
    }
    expect(rulesFingerprint(PLAIN_RULES)).toBe('plain');
  });

  it('puts the rules in the index key, so a model with other rules is embedded again', () => {
    const nomic = embeddingRules(model('Nomic Embed Text v1.5', 'nomic-embed-text-v1.5.Q8_0.gguf', 'nomic-bert'));
    const gemma = embeddingRules(model('EmbeddingGemma 300M', 'embeddinggemma-300M-Q8_0.gguf', 'gemma-embedding'));
    expect(rulesFingerprint(nomic)).toMatch(/^[0-9a-f]{8}$/);
    expect(rulesFingerprint(nomic)).toBe(rulesFingerprint({ ...nomic, family: 'renamed' }));
    expect(rulesFingerprint(nomic)).not.toBe(rulesFingerprint(gemma));
    expect(indexKey('m1', 768, rulesFingerprint(nomic))).not.toBe(indexKey('m1', 768));
    expect(indexKey('m1', 768)).toBe('chunks_m1_768_s2');

    const row = { id: 'm1', name: 'Nomic Embed Text v1.5', path: '/models/nomic-embed-text-v1.5.Q8_0.gguf', architecture: 'nomic-bert' } as ModelRow;
    const built = { key: indexKey('m1', 768, rulesFingerprint(nomic)), modelId: 'm1', modelName: row.name, dimension: 768 };
    expect(activeIndexFits(built, row)).toBe(true);
    // Built before the rules (or the schema) existed: rebuilt.
    expect(activeIndexFits({ ...built, key: 'chunks_m1_768' }, row)).toBe(false);
    expect(activeIndexFits({ ...built, key: indexKey('m1', 768) }, row)).toBe(false);
    expect(activeIndexFits(built, { ...row, id: 'm2' })).toBe(false);
    expect(activeIndexFits(null, row)).toBe(false);
  });
});
