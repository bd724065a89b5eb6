import type { Llama } from 'node-llama-cpp';
import type { InferenceBuild } from '#contract/verify';
import { nodeLlamaCpp } from '../models/nodeLlamaCpp';

/**
 * Batch size for every context Hearth generates with. llama.cpp may sum a prompt's numbers in
 * another order when it is split into other batches, so chat and replay use one fixed size
 * instead of node-llama-cpp's default (which depends on the context size).
 */
export const GENERATION_BATCH_SIZE = 512;

/** The build a Llama instance runs: recorded with a reply, compared when it is replayed. */
export async function describeBuild(llama: Llama): Promise<InferenceBuild> {
  const release = llama.llamaCppRelease;
  return {
    backend: llama.gpu === false ? 'cpu' : llama.gpu,
    llamaCpp: `${release.repo}@${release.release}${llama.buildType === 'localBuild' ? ' (local build)' : ''}`,
    nodeLlamaCpp: await (await nodeLlamaCpp()).getModuleVersion(),
  };
}

/** How a recorded build differs from this one, in words; empty when they are the same. */
export function buildDifferences(recorded: InferenceBuild, here: InferenceBuild): string[] {
  const out: string[] = [];
  if (recorded.backend !== here.backend) out.push(`backend ${recorded.backend}, replayed on ${here.backend}`);
  if (recorded.llamaCpp !== here.llamaCpp) out.push(`llama.cpp ${recorded.llamaCpp}, replayed with ${here.llamaCpp}`);
  if (recorded.nodeLlamaCpp !== here.nodeLlamaCpp) out.push(`node-llama-cpp ${recorded.nodeLlamaCpp}, replayed with ${here.nodeLlamaCpp}`);
  return out;
}
