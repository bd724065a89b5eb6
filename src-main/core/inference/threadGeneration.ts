import type { GenerationParams, Settings, ThreadGeneration } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { SettingsRepository } from '../storage/settingsRepository';
import type { ThreadGenerationRepository } from '../storage/threadGenerationRepository';

const PARAM_KEYS = ['temperature', 'topP', 'topK', 'repeatPenalty', 'maxReplyTokens'] as const satisfies readonly (keyof GenerationParams)[];

/** The saved defaults with a chat's own values over them. */
export function effectiveGeneration(settings: Settings, overrides: Partial<GenerationParams> | null): GenerationParams {
  const effective = {} as GenerationParams;
  for (const key of PARAM_KEYS) effective[key] = overrides?.[key] ?? settings[key];
  return effective;
}

/**
 * A chat's sampling values: what it sets for itself (per-thread overrides, as a preset or the
 * chat's settings panel leaves them) over the saved defaults. One place answers "what will this
 * chat's next reply use", for the chat service and for every front end alike.
 */
export class ThreadGenerationService {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly overrides: ThreadGenerationRepository,
    private readonly threadExists: (threadId: string) => boolean,
  ) {}

  get(threadId: string): ThreadGeneration {
    this.assertThread(threadId);
    return this.describe(threadId);
  }

  set(threadId: string, overrides: Partial<GenerationParams> | null): ThreadGeneration {
    this.assertThread(threadId);
    this.overrides.set(threadId, overrides);
    return this.describe(threadId);
  }

  /** What the chat's next reply uses; a deleted chat gets the saved defaults. */
  effective(threadId: string): GenerationParams {
    return effectiveGeneration(this.settings.get(), this.overrides.get(threadId));
  }

  private describe(threadId: string): ThreadGeneration {
    const overrides = this.overrides.get(threadId);
    return { threadId, overrides, effective: effectiveGeneration(this.settings.get(), overrides) };
  }

  private assertThread(threadId: string): void {
    if (!this.threadExists(threadId)) throw new HearthError('THREAD_NOT_FOUND', `No chat with id ${threadId}; it may have been deleted.`);
  }
}
