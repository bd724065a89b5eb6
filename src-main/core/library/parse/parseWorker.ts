/**
 * Entry point of the parser child process (see DocumentParser), forked with an IPC channel.
 * Self-contained with relative imports, so the build can bundle it as its own file.
 */
import { DocumentProblem, type DocumentProblemCode, type ParsedDocument } from '../types';
import { parseFile } from './parseFile';

export interface ParseRequest {
  id: number;
  path: string;
  maxBytes: number;
  /** When OCR is on: how long it may run (from receipt; the parent kills the process at its own time-out) and the memory it may take. */
  ocr: { budgetMs: number; maxRssMb: number } | null;
}

export type ParseReply = { id: number; ok: true; doc: ParsedDocument } | { id: number; ok: false; code: DocumentProblemCode; message: string };

/** Sent once the imports are done, so the parent's time-out measures parsing, not start-up. */
export interface WorkerReady {
  ready: true;
}

const send = process.send?.bind(process);
if (!send) throw new Error('parseWorker must run as a child process forked with an IPC channel');

// A reply the parent can no longer receive (it is gone, or closed the channel) is dropped.
const reply = (message: ParseReply | WorkerReady): void => {
  if (process.connected) send(message, undefined, {}, () => undefined);
};

process.on('message', (request: ParseRequest) => {
  void handle(request).then(reply);
});
// The parent went away (quit, crashed): stop now rather than finish a parse nobody will read.
process.on('disconnect', () => process.exit(0));
reply({ ready: true });

async function handle(request: ParseRequest): Promise<ParseReply> {
  try {
    const ocr = request.ocr && { deadline: Date.now() + request.ocr.budgetMs, maxRssBytes: request.ocr.maxRssMb * 1024 * 1024 };
    const doc = await parseFile(request.path, { maxBytes: request.maxBytes, ocr });
    return { id: request.id, ok: true, doc };
  } catch (error) {
    if (error instanceof DocumentProblem) return { id: request.id, ok: false, code: error.code, message: error.message };
    return { id: request.id, ok: false, code: 'CORRUPT', message: `could not parse: ${error instanceof Error ? error.message : String(error)}` };
  }
}
