import { getHeapStatistics } from 'node:v8';

export interface MemoryBudget {
  /** Most bytes of text (XML, XHTML, HTML) one document may expand to before it is parsed into a tree. */
  markupBytes: number;
  /** Most lines a line-based parser may hold at once. */
  lines: number;
}

/**
 * What a parser may build, scaled to this process's heap limit (the parser process's
 * --max-old-space-size). Running out of heap is fatal to a process, but the parser runs in its own
 * child process, so that costs only the parser and the file is reported OUT_OF_MEMORY. These
 * budgets are the clearer answer: parsers check input against them first and refuse (TOO_LARGE)
 * what could not fit anyway, instead of growing until V8 gives up.
 */
export function memoryBudget(): MemoryBudget {
  const heap = getHeapStatistics().heap_size_limit;
  return { markupBytes: Math.floor(heap / 8), lines: Math.floor(heap / 256) };
}
