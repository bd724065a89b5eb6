import type { Settings } from '#contract/dto';
import type { Db } from './database';

export const DEFAULT_SETTINGS: Settings = {
  contextSize: null,
  maxReplyTokens: 1024,
  temperature: 0.7,
  idleUnloadMinutes: 30,
  hubEndpoint: 'https://huggingface.co',
};

/** Settings as one JSON value per key; unknown keys in the file are ignored. */
export class SettingsRepository {
  constructor(private readonly db: Db) {}

  get(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const settings: Settings = { ...DEFAULT_SETTINGS };
    for (const { key, value } of rows) {
      if (Object.hasOwn(DEFAULT_SETTINGS, key)) (settings as unknown as Record<string, unknown>)[key] = JSON.parse(value);
    }
    return settings;
  }

  update(patch: Partial<Settings>): Settings {
    const upsert = this.db.prepare(
      'INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined && Object.hasOwn(DEFAULT_SETTINGS, key)) upsert.run(key, JSON.stringify(value));
      }
    })();
    return this.get();
  }
}
