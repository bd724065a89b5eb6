import type { IndexStatus, ModelInfo } from '#contract/dto';

/**
 * The notices a screen can show above its content. A screen shows at most one: the first of
 * NOTICE_PRIORITY that applies, so one state never stacks several warnings that say the same
 * thing (Banners.svelte decides, the components only draw).
 */
export type NoticeId = 'connection' | 'indexBlocker' | 'runtimeError' | 'fullText' | 'generativeEmbeddings' | 'backend';

/** Most important first: while Hearth cannot be reached nothing else shown is known to be true. */
export const NOTICE_PRIORITY: readonly NoticeId[] = ['connection', 'indexBlocker', 'runtimeError', 'fullText', 'generativeEmbeddings', 'backend'];

export type NoticeFlags = Partial<Record<NoticeId, boolean>>;

/** The one notice to show for these conditions, or null. */
export function topNotice(applies: NoticeFlags): NoticeId | null {
  return NOTICE_PRIORITY.find((id) => applies[id] === true) ?? null;
}

/**
 * The Documents screen's own conditions: indexing is blocked; searches are full-text only and no
 * embedding model is chosen (once one is, the progress card shows its vectors being made); the
 * chosen embedding model is a chat model (weaker vectors).
 */
export function documentsNoticeFlags(
  status: Pick<IndexStatus, 'blocker' | 'mode' | 'target'> | null,
  models: readonly Pick<ModelInfo, 'id' | 'kind'>[],
): NoticeFlags {
  if (!status) return {};
  const chosen = status.target ? models.find((m) => m.id === status.target?.modelId) : undefined;
  return {
    indexBlocker: status.blocker !== null,
    fullText: status.mode === 'full-text' && status.target === null,
    generativeEmbeddings: chosen?.kind === 'generative',
  };
}
