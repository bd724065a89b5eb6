/**
 * The CPU threads inference uses when the user sets none: one per physical core but one, at
 * least one. llama.cpp's threads spin at a barrier after every matrix product, so when a thread
 * is descheduled (another program busy on its core) every token waits for it: on a 2-vCPU VM
 * with other work running, 2 threads decoded a 1.1 B model 8–13× slower than 1 (BENCHMARKS.md, bench:threads).
 * Leaving a core free keeps a busy neighbour (the UI, an indexing job, a browser) off the cliff,
 * at a bounded price on an idle machine (at most 1/N of the speed; `--threads` takes them all).
 */
export function defaultThreads(mathCores: number): number {
  return Math.max(1, Math.floor(mathCores) - 1);
}
