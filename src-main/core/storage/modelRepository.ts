import type { Db } from './database';

export interface ModelRow {
  id: string;
  path: string;
  name: string;
  sizeBytes: number;
  architecture: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  addedAt: number;
}

interface RawModelRow {
  id: string;
  path: string;
  name: string;
  size_bytes: number;
  architecture: string | null;
  context_length: number | null;
  has_chat_template: number;
  added_at: number;
}

const fromRaw = (r: RawModelRow): ModelRow => ({
  id: r.id,
  path: r.path,
  name: r.name,
  sizeBytes: r.size_bytes,
  architecture: r.architecture,
  contextLength: r.context_length,
  hasChatTemplate: r.has_chat_template === 1,
  addedAt: r.added_at,
});

export class ModelRepository {
  constructor(private readonly db: Db) {}

  list(): ModelRow[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY name COLLATE NOCASE').all() as RawModelRow[]).map(fromRaw);
  }

  get(id: string): ModelRow | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as RawModelRow | undefined;
    return row && fromRaw(row);
  }

  getByPath(path: string): ModelRow | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE path = ?').get(path) as RawModelRow | undefined;
    return row && fromRaw(row);
  }

  /** Inserts or refreshes the row for this path, keeping its id. */
  upsert(model: ModelRow): ModelRow {
    this.db
      .prepare(
        `INSERT INTO models (id, path, name, size_bytes, architecture, context_length, has_chat_template, added_at)
         VALUES (@id, @path, @name, @sizeBytes, @architecture, @contextLength, @hasChatTemplate, @addedAt)
         ON CONFLICT(path) DO UPDATE SET name = excluded.name, size_bytes = excluded.size_bytes,
           architecture = excluded.architecture, context_length = excluded.context_length,
           has_chat_template = excluded.has_chat_template`,
      )
      .run({ ...model, hasChatTemplate: model.hasChatTemplate ? 1 : 0 });
    return this.getByPath(model.path)!;
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0;
  }
}
