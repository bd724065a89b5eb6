import { modelDisplayName } from './modelName';
import { createWriteStream, existsSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Llama } from 'node-llama-cpp';
import type { ModelInfo, ModelPurpose } from '#contract/dto';
import { Emitter } from '../common/emitter';
import { isDiskFull } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { newId } from '../common/ids';
import { nonRegularKind, openRegularFile } from '../common/regularFile';
import type { Logger } from '../common/logger';
import type { ModelRepository, ModelRow } from '../storage/modelRepository';
import { assertLoadable, inspectGguf, modelFileError } from './ggufInspector';

/**
 * The models this machine knows: files in Hearth's models folder (downloaded, copied in, or
 * dropped there), files the user referenced where they are, and every *.gguf in any extra
 * folders configured. Files in the models folder are Hearth's to delete; others never are.
 */
export class ModelLibrary {
  private readonly modelsDir: string;
  private readonly events = new Emitter<{ defaultChanged: ModelPurpose }>();
  /** Non-regular *.gguf entries already logged, so a listing says so once, not on every call. */
  private readonly skipped = new Set<string>();

  constructor(
    private readonly repo: ModelRepository,
    /** node-llama-cpp, to read GGUF headers (the runtime's instance). */
    private readonly llama: () => Promise<Llama>,
    /** The first folder is Hearth's own models folder; the rest are extra folders to list. */
    private readonly modelDirs: readonly [string, ...string[]],
    private readonly logger: Logger,
  ) {
    this.modelsDir = resolve(modelDirs[0]);
  }

  async list(): Promise<ModelInfo[]> {
    await this.scanFolders();
    return this.repo.list().map((row) => ({ ...named(row), present: existsSync(row.path) }));
  }

  get(id: string): ModelRow {
    const row = this.repo.get(id);
    if (!row) throw new HearthError('MODEL_NOT_FOUND', `No model with id ${id}`);
    return named(row);
  }

  info(id: string): ModelInfo {
    const row = this.get(id);
    return { ...row, present: existsSync(row.path) };
  }

  /** Registers a GGUF where it is, after checking it is a readable, complete model file. */
  async add(path: string): Promise<ModelInfo> {
    const absolute = resolve(path);
    const llama = await this.llama();
    const inspection = await inspectGguf(absolute, llama);
    assertLoadable(inspection, totalmem());
    const existing = this.repo.getByPath(absolute);
    this.repo.upsert({
      id: existing?.id ?? newId('mdl'),
      path: absolute,
      name: inspection.name,
      sizeBytes: inspection.sizeBytes,
      architecture: inspection.architecture,
      contextLength: inspection.contextLength,
      hasChatTemplate: inspection.hasChatTemplate,
      kind: inspection.kind,
      parameters: inspection.parameters,
      quantization: inspection.quantization,
      managed: this.isManaged(absolute),
      addedAt: existing?.addedAt ?? Date.now(),
    });
    const id = this.repo.getByPath(absolute)!.id;
    // The first chat model added becomes the default, so sending a message loads it.
    if (!existing && inspection.kind === 'generative' && !this.repo.defaultFor('chat')) this.setDefault('chat', id);
    return this.info(id);
  }

  /**
   * Adds a GGUF already on disk. With copy, it is checked first, then copied into the models
   * folder under a temporary name and renamed into place, so a failed copy leaves nothing.
   */
  async import(path: string, copy: boolean): Promise<ModelInfo> {
    if (!copy) return this.add(path);
    const source = resolve(path);
    const llama = await this.llama();
    assertLoadable(await inspectGguf(source, llama), totalmem());
    const target = this.freeName(basename(source));
    const partial = `${target}.partial`;
    try {
      // Copied from the handle that was checked: a FIFO swapped in for the file cannot block the copy.
      const handle = await openRegularFile(source, { expected: 'a model file' });
      await pipeline(handle.createReadStream(), createWriteStream(partial));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      if (isDiskFull(error)) throw new HearthError('DISK_FULL', `Not enough disk space to copy ${basename(source)} into ${this.modelsDir}.`);
      throw modelFileError(error, source);
    }
    try {
      return await this.add(target);
    } catch (error) {
      await rm(target, { force: true });
      throw error;
    }
  }

  /** Forgets a model; a file in Hearth's models folder is deleted too (others are left alone). */
  async remove(id: string): Promise<void> {
    const row = this.get(id);
    if (row.managed) {
      try {
        await rm(row.path, { force: true });
      } catch (error) {
        throw modelFileError(error, row.path);
      }
    }
    this.repo.remove(id);
  }

  setDefault(purpose: ModelPurpose, id: string | null): void {
    if (id !== null) {
      const row = this.get(id);
      // A generative model can also embed (llama.cpp pools its hidden states), less well than a
      // dedicated embedding model but usefully; ranking needs a reranker's classification head.
      const fits = purpose === 'chat' ? row.kind === 'generative' : purpose === 'embedding' ? row.kind !== 'rerank' : row.kind === purpose;
      if (!fits) throw new HearthError('BAD_INPUT', `${row.name} is ${article(row.kind)} ${row.kind} model; it cannot be the default for ${purpose}.`);
    }
    this.repo.setDefault(purpose, id);
    this.events.emit('defaultChanged', purpose);
  }

  /**
   * Told after the default model for a purpose is set or cleared, whichever front end did it
   * (the document library re-embeds when the embedding default changes).
   */
  onDefaultChanged(listener: (purpose: ModelPurpose) => void): () => void {
    return this.events.on('defaultChanged', listener);
  }

  defaultFor(purpose: ModelPurpose): ModelRow | undefined {
    const row = this.repo.defaultFor(purpose);
    return row && named(row);
  }

  /**
   * The model that embeds documents: the one set as default for embeddings, else the first
   * dedicated embedding model in the library (e.g. the catalog's, once downloaded), so
   * downloading one is enough to start indexing.
   */
  embeddingModel(): ModelRow | undefined {
    const row = this.repo.defaultFor('embedding') ?? this.repo.list().find((r) => r.kind === 'embedding' && existsSync(r.path));
    return row && named(row);
  }

  setGpuLayers(id: string, gpuLayers: number | null): ModelInfo {
    this.get(id);
    this.repo.setGpuLayers(id, gpuLayers);
    return this.info(id);
  }

  /** A path inside the models folder that no file uses yet: "name.gguf", then "name (2).gguf". */
  freeName(fileName: string): string {
    // Keep names portable: no control characters or characters Windows forbids.
    const safe = [...basename(fileName)].map((c) => (c.charCodeAt(0) < 32 || '<>:"|?*'.includes(c) ? '_' : c)).join('');
    const stem = safe.replace(/\.gguf$/i, '');
    for (let n = 1; ; n++) {
      const candidate = join(this.modelsDir, n === 1 ? `${stem}.gguf` : `${stem} (${n}).gguf`);
      if (!existsSync(candidate) && !existsSync(`${candidate}.partial`)) return candidate;
    }
  }

  private isManaged(absolute: string): boolean {
    const rel = relative(this.modelsDir, absolute);
    // Only files directly in the models folder: never a file elsewhere the user pointed at.
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.includes(sep);
  }

  /**
   * A data directory restored (or moved) lists the models Hearth copied into it at their old
   * paths, outside this models folder: a copied model with this name and size is this file, so
   * its row follows it instead of a second row appearing without the user's defaults.
   */
  private async relocate(path: string, name: string): Promise<boolean> {
    const size = await stat(path).then((s) => s.size, () => -1);
    const moved = this.repo
      .list()
      .find((row) => row.managed && !this.isManaged(row.path) && row.sizeBytes === size && basename(row.path) === name);
    if (!moved) return false;
    this.logger.info(`model ${moved.name} moved from ${moved.path} to ${path}`);
    this.repo.setPath(moved.id, path);
    return true;
  }

  /**
   * A FIFO, socket or device named *.gguf is skipped with a log line and never opened (opening
   * a FIFO blocks until a writer comes). Stat does not block on one.
   */
  private async isSpecialFile(path: string): Promise<boolean> {
    const info = await stat(path).catch(() => null);
    const kind = info ? nonRegularKind(info) : null;
    if (kind === null || kind === 'a folder') return false;
    if (!this.skipped.has(path)) this.logger.warn(`not listing ${path}: it is ${kind}, not a model file`);
    this.skipped.add(path);
    return true;
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
        const path = resolve(dir, name);
        if (this.repo.getByPath(path)) continue;
        if (await this.isSpecialFile(path)) continue;
        if (await this.relocate(path, name)) continue;
        try {
          await this.add(path);
        } catch (error) {
          this.logger.warn(`not listing ${path}: ${(error as Error).message}`);
        }
      }
    }
  }
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** A row with the name it is shown by (rows added before generic GGUF names gave way to the file name included). */
function named<T extends { name: string; path: string; architecture: string | null }>(row: T): T {
  return { ...row, name: modelDisplayName(row.name, row.path, row.architecture) };
}
