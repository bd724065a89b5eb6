import type { GenerationParams } from '#contract/dto';
import { generationParamsSchema } from '#contract/api';
import { createConsoleLogger, type Logger } from '../common/logger';
import type { Db } from './database';
import { StoredJsonReader } from './storedJson';

const overridesSchema = generationParamsSchema.partial();

/**
 * A chat's own sampling values, over the saved defaults. Stored per thread (deleted with it);
 * a stored value this version cannot read back counts as no override, with a log line.
 */
export class ThreadGenerationRepository {
  private readonly stored: StoredJsonReader;

  constructor(
    private readonly db: Db,
    logger: Logger = createConsoleLogger('warn'),
  ) {
    this.stored = new StoredJsonReader(logger);
  }

  get(threadId: string): Partial<GenerationParams> | null {
    const row = this.db.prepare('SELECT params_json FROM thread_generation WHERE thread_id = ?').get(threadId) as { params_json: string } | undefined;
    if (!row) return null;
    const read = this.stored.read(overridesSchema, row.params_json, `The sampling values of chat ${threadId}`, null, 'using the saved defaults');
    return read && Object.keys(read).length > 0 ? stripUndefined(read) : null;
  }

  /** null (or no values) clears the chat's overrides. */
  set(threadId: string, overrides: Partial<GenerationParams> | null, now = Date.now()): void {
    const values = overrides ? stripUndefined(overrides) : {};
    if (Object.keys(values).length === 0) {
      this.db.prepare('DELETE FROM thread_generation WHERE thread_id = ?').run(threadId);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO thread_generation (thread_id, params_json, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(thread_id) DO UPDATE SET params_json = excluded.params_json, updated_at = excluded.updated_at`,
      )
      .run(threadId, JSON.stringify(values), now);
  }
}

function stripUndefined(values: Partial<GenerationParams>): Partial<GenerationParams> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<GenerationParams>;
}
