import type { z } from 'zod';
import { settingsSchema } from '#contract/api';
import type { Settings } from '#contract/dto';
import { Emitter } from '../common/emitter';
import { createConsoleLogger, type Logger } from '../common/logger';
import type { Db } from './database';
import { StoredJsonReader } from './storedJson';

export const DEFAULT_SETTINGS: Settings = {
  contextSize: null,
  maxReplyTokens: 1024,
  temperature: 0.7,
  topP: 0.95,
  topK: 40,
  repeatPenalty: 1,
  idleUnloadMinutes: 30,
  hubEndpoint: 'https://huggingface.co',
  answerReceipts: true,
  ocr: false,
  localApi: false,
  presets: [],
  localApiLan: false,
};

const isSettingKey = (key: string): key is keyof Settings => Object.hasOwn(DEFAULT_SETTINGS, key);

/** Settings as one JSON value per key; unknown keys in the file are ignored. */
export class SettingsRepository {
  private readonly stored: StoredJsonReader;
  /** Told after an update, with the settings before and after it. */
  readonly events = new Emitter<{ changed: { before: Settings; after: Settings } }>();

  constructor(
    private readonly db: Db,
    logger: Logger = createConsoleLogger('warn'),
  ) {
    this.stored = new StoredJsonReader(logger);
  }

  get(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const { key, value } of rows) {
      if (!isSettingKey(key)) continue;
      // Fallback: a value that is not JSON, or not one the setting may take, reads as the default.
      const schema: z.ZodType<unknown> = settingsSchema.shape[key];
      settings[key] = this.stored.read(schema, value, `The setting "${key}"`, DEFAULT_SETTINGS[key], 'using its default');
    }
    return settings as unknown as Settings;
  }

  /** Forgets the saved values of these keys: their defaults apply again. */
  reset(keys: readonly (keyof Settings)[]): Settings {
    const remove = this.db.prepare('DELETE FROM settings WHERE key = ?');
    this.db.transaction(() => {
      for (const key of keys) remove.run(key);
    })();
    return this.get();
  }

  update(patch: Partial<Settings>): Settings {
    const upsert = this.db.prepare(
      'INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    const before = this.get();
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined && Object.hasOwn(DEFAULT_SETTINGS, key)) upsert.run(key, JSON.stringify(value));
      }
    })();
    const after = this.get();
    this.events.emit('changed', { before, after });
    return after;
  }
}
