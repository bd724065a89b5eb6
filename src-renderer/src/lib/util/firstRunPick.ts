import type { CatalogEntry, CatalogFile, HardwareInfo, ModelPurpose } from '#contract/dto';
import { formatBytes } from '#contract/format';

/** One catalog entry at its recommended quantization: what the first-run flow proposes. */
export interface Proposal {
  entry: CatalogEntry;
  file: CatalogFile;
}

/** On the CPU, bigger models answer too slowly for a first try: about a 3B model at Q4. */
const CPU_CHAT_CAP = 2_600_000_000;
/** Embedding models are small; past this they only slow indexing down. */
const EMBEDDING_CAP = 350_000_000;

/**
 * How many bytes of weights this machine can hold comfortably: most of the VRAM when a GPU
 * runs models, else half the free memory (the rest is for the context, the app and the OS).
 */
export function memoryBudget(hardware: HardwareInfo, purpose: ModelPurpose): number {
  const gpu = hardware.backend.backend !== 'cpu' && hardware.vramBytes > 0;
  const budget = gpu ? hardware.vramBytes * 0.8 : Math.max(hardware.freeRamBytes, hardware.ramBytes / 4) * 0.5;
  if (purpose === 'embedding') return Math.min(budget, EMBEDDING_CAP);
  return gpu ? budget : Math.min(budget, CPU_CHAT_CAP);
}

function recommendedFile(entry: CatalogEntry): CatalogFile | null {
  return entry.files.find((f) => f.quantization === entry.recommendedQuantization) ?? null;
}

/**
 * The catalog's candidates for one purpose, best first: the largest files within the memory
 * budget (a bigger model of the same family answers better), then, when nothing is within it,
 * the smallest one, so a small machine still gets a proposal. Worked out here, from the catalog's
 * sizes and this machine's memory, so opening the app asks nothing of the network.
 */
export function shortlist(catalog: CatalogEntry[], hardware: HardwareInfo, purpose: ModelPurpose, length = 3): Proposal[] {
  const all = catalog
    .filter((entry) => entry.purpose === purpose)
    .flatMap((entry) => {
      const file = recommendedFile(entry);
      return file ? [{ entry, file }] : [];
    })
    .sort((a, b) => b.file.sizeBytes - a.file.sizeBytes || a.entry.id.localeCompare(b.entry.id));
  const budget = memoryBudget(hardware, purpose);
  const within = all.filter((p) => p.file.sizeBytes <= budget);
  if (within.length > 0) return within.slice(0, length);
  const smallest = all.at(-1);
  return smallest ? [smallest] : [];
}

/** The best candidate for one purpose, or null when the catalog has none. */
export function propose(catalog: CatalogEntry[], hardware: HardwareInfo, purpose: ModelPurpose): Proposal | null {
  return shortlist(catalog, hardware, purpose, 1)[0] ?? null;
}

/** How a file fits this machine's memory, in a phrase, and whether it is within the budget. */
export function memoryFit(hardware: HardwareInfo, sizeBytes: number): { label: string; fits: boolean } {
  const gpu = hardware.backend.backend !== 'cpu' && hardware.vramBytes > 0;
  const fits = sizeBytes <= (gpu ? hardware.vramBytes * 0.8 : Math.max(hardware.freeRamBytes, hardware.ramBytes / 4) * 0.5);
  if (gpu) return { fits, label: fits ? `Fits in GPU memory (${formatBytes(hardware.vramBytes)})` : 'Partly on the GPU: slower' };
  return { fits, label: fits ? `Runs on the CPU (${formatBytes(hardware.freeRamBytes)} memory free)` : 'Tight on memory: may be slow' };
}
