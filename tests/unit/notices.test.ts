import { describe, expect, it } from 'vitest';
import type { IndexStatus } from '#contract/dto';
import { documentsNoticeFlags, NOTICE_PRIORITY, topNotice } from '../../src-renderer/src/lib/util/notices';

const status = (over: Partial<Pick<IndexStatus, 'blocker' | 'mode' | 'target'>>) => ({ blocker: null, mode: 'hybrid' as const, target: null, ...over });
const chat = { id: 'chat-1', kind: 'generative' as const };
const embed = { id: 'embed-1', kind: 'embedding' as const };
const target = (modelId: string) => ({ modelId, modelName: modelId, dimension: 8 });

describe('one notice for one state', () => {
  it('shows the most important notice that applies, and only that one', () => {
    expect(topNotice({})).toBeNull();
    expect(topNotice({ backend: true, fullText: true })).toBe('fullText');
    expect(topNotice({ backend: true, fullText: true, runtimeError: true })).toBe('runtimeError');
    expect(topNotice({ backend: true, indexBlocker: true, runtimeError: true, fullText: true })).toBe('indexBlocker');
    expect(topNotice({ connection: true, backend: true, indexBlocker: true })).toBe('connection');
    expect(topNotice({ connection: false, backend: true })).toBe('backend');
    expect(new Set(NOTICE_PRIORITY).size).toBe(NOTICE_PRIORITY.length);
  });

  it('reads the Documents screen’s conditions from the index status', () => {
    expect(documentsNoticeFlags(null, [])).toEqual({});
    // No embedding model chosen: full-text only (the state the CPU warning stacked on).
    expect(topNotice({ backend: true, ...documentsNoticeFlags(status({ mode: 'full-text' }), [chat]) })).toBe('fullText');
    // A chat model chosen, its vectors not made yet: the note about chat-model vectors, not "choose one".
    expect(topNotice({ backend: true, ...documentsNoticeFlags(status({ mode: 'full-text', target: target('chat-1') }), [chat]) })).toBe('generativeEmbeddings');
    // An embedding model chosen, still embedding: nothing to warn about (the progress card shows the work).
    expect(topNotice(documentsNoticeFlags(status({ mode: 'full-text', target: target('embed-1') }), [embed]))).toBeNull();
    // A blocker wins over full text.
    const blocked = status({ mode: 'full-text', blocker: { code: 'INDEX_MISSING', message: 'gone' } });
    expect(topNotice({ backend: true, ...documentsNoticeFlags(blocked, [chat]) })).toBe('indexBlocker');
  });
});
