import type * as NodeLlamaCppModule from 'node-llama-cpp';

/** The node-llama-cpp module's type, for code that loads it with nodeLlamaCpp(). */
export type NodeLlamaCpp = typeof NodeLlamaCppModule;

let loading: Promise<NodeLlamaCpp> | null = null;

/**
 * node-llama-cpp, loaded at first use. Loading it costs about half a second of CPU and 40 MB,
 * which commands that never touch a model (the vault commands, --help...) should not pay, so no
 * module imports a value from it at its top: only types there, and this at the point of use.
 */
export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  loading ??= import('node-llama-cpp');
  return loading;
}
