import type { ModelInfo, ModelPurpose } from '#contract/dto';
import type { Db } from './database';

/** A model as stored: ModelInfo less what is derived when listing (presence on disk). */
export type ModelRow = Omit<ModelInfo, 'present'>;

interface RawModelRow {
  id: string;
  path: string;
  name: string;
  size_bytes: number;
  architecture: string | null;
  context_length: number | null;
  has_chat_template: number;
  kind: ModelInfo['kind'];
  parameters: number | null;
  quantization: string | null;
  gpu_layers: number | null;
  managed: number;
  added_at: number;
  default_for: string | null;
}

const fromRaw = (r: RawModelRow): ModelRow => ({
  id: r.id,
  path: r.path,
  name: r.name,
  sizeBytes: r.size_bytes,
  architecture: r.architecture,
  contextLength: r.context_length,
  hasChatTemplate: r.has_chat_template === 1,
  kind: r.kind,
  parameters: r.parameters,
  quantization: r.quantization,
  gpuLayers: r.gpu_layers,
  managed: r.managed === 1,
  defaultFor: r.default_for ? (r.default_for.split(',').sort() as ModelPurpose[]) : [],
  addedAt: r.added_at,
});

const SELECT = `SELECT m.*, (SELECT group_concat(d.purpose) FROM model_defaults d WHERE d.model_id = m.id) AS default_for FROM models m`;

export class ModelRepository {
  constructor(private readonly db: Db) {}

  list(): ModelRow[] {
    return (this.db.prepare(`${SELECT} ORDER BY m.name COLLATE NOCASE`).all() as RawModelRow[]).map(fromRaw);
  }

  get(id: string): ModelRow | undefined {
    const row = this.db.prepare(`${SELECT} WHERE m.id = ?`).get(id) as RawModelRow | undefined;
    return row && fromRaw(row);
  }

  getByPath(path: string): ModelRow | undefined {
    const row = this.db.prepare(`${SELECT} WHERE m.path = ?`).get(path) as RawModelRow | undefined;
    return row && fromRaw(row);
  }

  /** Inserts or refreshes the row for this path, keeping its id and the user's choices. */
  upsert(model: Omit<ModelRow, 'defaultFor' | 'gpuLayers'>): ModelRow {
    this.db
      .prepare(
        `INSERT INTO models (id, path, name, size_bytes, architecture, context_length, has_chat_template,
                             kind, parameters, quantization, managed, added_at)
         VALUES (@id, @path, @name, @sizeBytes, @architecture, @contextLength, @hasChatTemplate,
                 @kind, @parameters, @quantization, @managed, @addedAt)
         ON CONFLICT(path) DO UPDATE SET name = excluded.name, size_bytes = excluded.size_bytes,
           architecture = excluded.architecture, context_length = excluded.context_length,
           has_chat_template = excluded.has_chat_template, kind = excluded.kind,
           parameters = excluded.parameters, quantization = excluded.quantization,
           managed = MAX(managed, excluded.managed)`,
      )
      .run({ ...model, hasChatTemplate: model.hasChatTemplate ? 1 : 0, managed: model.managed ? 1 : 0 });
    return this.getByPath(model.path)!;
  }

  /** Points a row at the file's new place, keeping its id, defaults and settings. */
  setPath(id: string, path: string): void {
    this.db.prepare('UPDATE models SET path = ? WHERE id = ?').run(path, id);
  }

  setGpuLayers(id: string, gpuLayers: number | null): void {
    this.db.prepare('UPDATE models SET gpu_layers = ? WHERE id = ?').run(gpuLayers, id);
  }

  /** Makes the model the default for a purpose (null clears the default). */
  setDefault(purpose: ModelPurpose, id: string | null): void {
    if (id === null) this.db.prepare('DELETE FROM model_defaults WHERE purpose = ?').run(purpose);
    else
      this.db
        .prepare('INSERT INTO model_defaults (purpose, model_id) VALUES (?, ?) ON CONFLICT(purpose) DO UPDATE SET model_id = excluded.model_id')
        .run(purpose, id);
  }

  defaultFor(purpose: ModelPurpose): ModelRow | undefined {
    const row = this.db.prepare('SELECT model_id FROM model_defaults WHERE purpose = ?').get(purpose) as { model_id: string } | undefined;
    return row && this.get(row.model_id);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0;
  }
}
