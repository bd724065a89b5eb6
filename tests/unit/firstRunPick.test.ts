import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry, HardwareInfo } from '../../src-preload/contract/dto';
import { memoryFit, propose, shortlist } from '../../src-renderer/src/lib/util/firstRunPick';
import { CATALOG_PATH } from '../support/testCore';

const catalog = (JSON.parse(readFileSync(CATALOG_PATH, 'utf8')) as { models: CatalogEntry[] }).models;
const GB = 1_000_000_000;

function machine(ramGb: number, freeGb: number, vramGb = 0): HardwareInfo {
  const gpu = vramGb > 0;
  return {
    cpuModel: 'Test CPU',
    cpuCores: 8,
    ramBytes: ramGb * GB,
    freeRamBytes: freeGb * GB,
    backend: { backend: gpu ? 'cuda' : 'cpu', reason: '', warning: !gpu, gpuDevices: gpu ? ['Test GPU'] : [] },
    vramBytes: vramGb * GB,
    freeVramBytes: vramGb * GB,
  };
}

const sizeOf = (p: ReturnType<typeof propose>) => p?.file.sizeBytes ?? 0;

/** The first-run proposal: worked out from the catalog and the machine, with no network. */
describe('first-run model proposal', () => {
  it('proposes a chat model and an embedding model, each at its recommended quantization', () => {
    const hardware = machine(16, 10);
    const chat = propose(catalog, hardware, 'chat');
    const embedding = propose(catalog, hardware, 'embedding');
    expect(chat?.entry.purpose).toBe('chat');
    expect(embedding?.entry.purpose).toBe('embedding');
    expect(chat?.file.quantization).toBe(chat?.entry.recommendedQuantization);
    expect(memoryFit(hardware, sizeOf(chat)).fits).toBe(true);
  });

  it('takes the largest that fits: bigger with a GPU than on the CPU, never past the budget', () => {
    const cpu = propose(catalog, machine(64, 60), 'chat');
    const gpu = propose(catalog, machine(64, 60, 24), 'chat');
    expect(sizeOf(gpu)).toBeGreaterThan(sizeOf(cpu));
    // On the CPU a big model answers too slowly for a first try, however much memory is free.
    expect(sizeOf(cpu)).toBeLessThanOrEqual(2_600_000_000);
    const small = propose(catalog, machine(4, 2), 'chat');
    expect(sizeOf(small)).toBeLessThanOrEqual(1 * GB);
    expect(sizeOf(small)).toBeLessThan(sizeOf(cpu));
  });

  it('still proposes the smallest model on a machine too small for any, and says it is tight', () => {
    const tiny = machine(0.5, 0.2);
    const list = shortlist(catalog, tiny, 'chat');
    expect(list).toHaveLength(1);
    const smallest = Math.min(...catalog.filter((e) => e.purpose === 'chat').map((e) => e.files.find((f) => f.quantization === e.recommendedQuantization)!.sizeBytes));
    expect(list[0]!.file.sizeBytes).toBe(smallest);
    expect(memoryFit(tiny, smallest)).toEqual({ fits: false, label: expect.stringMatching(/Tight/) });
  });
});
