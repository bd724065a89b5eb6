import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelInfo } from '../../../src-preload/contract/dto';
import { HearthError } from '../common/hearthError';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { ModelRepository, ModelRow } from '../storage/modelRepository';
import { assertLoadable, inspectGguf } from './ggufInspector';
import type { LlamaRuntime } from '../inference/llamaRuntime';

/**
 * The models this machine knows: files the user added by path, plus every *.gguf found in
 * the models folders (the data directory's models/ and any extra folders configured).
 */
export class ModelLibrary {
  constructor(
    private readonly repo: ModelRepository,
    private readonly runtime: LlamaRuntime,
    private readonly modelDirs: readonly string[],
    private readonly logger: Logger,
  ) {}

  async list(): Promise<ModelInfo[]> {
    await this.scanFolders();
    return this.repo.list().map((row) => ({ ...row, present: existsSync(row.path) }));
  }

  get(id: string): ModelRow {
    const row = this.repo.get(id);
    if (!row) throw new HearthError('MODEL_NOT_FOUND', `No model with id ${id}`);
    return row;
  }

  /** Registers a GGUF by path after checking it is a readable, complete model file. */
  async add(path: string): Promise<ModelInfo> {
    const absolute = resolve(path);
    const llama = await this.runtime.llama();
    const inspection = await inspectGguf(absolute, llama);
    assertLoadable(inspection, totalmem());
    const existing = this.repo.getByPath(absolute);
    const row = this.repo.upsert({
      id: existing?.id ?? newId('mdl'),
      path: absolute,
      name: inspection.name,
      sizeBytes: inspection.sizeBytes,
      architecture: inspection.architecture,
      contextLength: inspection.contextLength,
      hasChatTemplate: inspection.hasChatTemplate,
      addedAt: existing?.addedAt ?? Date.now(),
    });
    return { ...row, present: true };
  }

  remove(id: string): void {
    if (!this.repo.remove(id)) throw new HearthError('MODEL_NOT_FOUND', `No model with id ${id}`);
  }

  private async scanFolders(): Promise<void> {
    for (const dir of this.modelDirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // a models folder that does not exist yet holds no models
      }
      for (const name of names.filter((n) => n.toLowerCase().endsWith('.gguf')).sort()) {
        const path = join(dir, name);
        if (this.repo.getByPath(path)) continue;
        try {
          await this.add(path);
        } catch (error) {
          this.logger.warn(`not listing ${path}: ${(error as Error).message}`);
        }
      }
    }
  }
}
