import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Sequencer } from '../../common/async';
import { DocumentProblem, type ParsedDocument } from '../types';
import type { ParseReply, ParseRequest, WorkerReady } from './parseWorker';

export interface DocumentParserOptions {
  /** The parser process's entry: the bundled `parseWorker.js`, or `parseWorker.ts` (run under tsx) in tests and dev. */
  workerPath: string;
  /** Longest one file may take to parse (default 60 s); the parser process is killed past it. */
  timeoutMs?: number;
  /** The parser process's JavaScript heap limit (default 1024 MB); a file that needs more is OUT_OF_MEMORY. */
  maxMemoryMb?: number;
  /** Larger files are refused unread (default 200 MiB). */
  maxBytes?: number;
  /**
   * Whether to read scanned PDF pages and images by OCR, asked at each file (so a change of the
   * setting applies from the next file); default off. OCR runs in the parser process under its
   * time-out and memory limit.
   */
  ocr?: () => boolean;
}

export interface ParseOptions {
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_MEMORY_MB = 1024;
const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
/** The share of the time-out OCR may use: it stops starting pages past it, so what it read is kept, not killed. */
const OCR_TIME_SHARE = 0.8;
/** Loading the parsers (tsx compiling them, in dev) is not the file's fault: it gets its own, generous limit. */
const STARTUP_TIMEOUT_MS = 60_000;
/** SIGKILL cannot be refused, but do not wait forever on a process the OS is slow to reap. */
const TERMINATE_WAIT_MS = 5_000;
/** After the process exits, how long its last stderr output may take to arrive. */
const STDERR_DRAIN_MS = 1_000;
/** How much of the parser's stderr is kept for error messages: enough for a fatal error and its stack. */
const STDERR_TAIL_CHARS = 8 * 1024;
/**
 * What V8 prints when it gives up for lack of memory: the heap limit reached ("FATAL ERROR: Reached
 * heap limit Allocation failed - JavaScript heap out of memory"), an allocation the OS refused
 * ("Fatal process out of memory: ..."), or one array or string grown past what V8 can address.
 */
const OUT_OF_MEMORY_PATTERN = /JavaScript heap out of memory|Fatal process out of memory|Fatal JavaScript out of memory|Fatal JavaScript invalid size error/i;
/** How V8 ends a process after a fatal error such as running out of memory: abort() (or a trap, on some builds). */
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGABRT', 'SIGTRAP'];

type WorkerMessage = ParseReply | WorkerReady;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Parses files in one reused child process, one file at a time, so a hostile or broken file can
 * at worst cost that process: a time-out or an abort kills it, running out of its heap limit
 * (even by one allocation far past it, which would abort a worker thread's whole process) ends it,
 * and the next file starts a fresh one. A process rather than a worker thread because V8 treats
 * memory exhaustion as fatal to the process, and a process is the one boundary that contains it.
 */
export class DocumentParser {
  private readonly workerPath: string;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxMemoryMb: number;
  private readonly ocr: () => boolean;
  private sandbox: Sandbox | null = null;
  private ready: Promise<Sandbox> | null = null;
  private readonly parses = new Sequencer();
  private nextId = 1;
  private disposed = false;
  /** Ends the parse in flight, if any (used by dispose). */
  private failCurrent: ((error: Error) => void) | null = null;

  constructor(options: DocumentParserOptions) {
    this.workerPath = options.workerPath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxMemoryMb = options.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB;
    this.ocr = options.ocr ?? (() => false);
  }

  /**
   * Parses one file. Rejects with a DocumentProblem saying why it cannot be indexed, or with the
   * signal's reason when aborted. Requests wait their turn; an abort while waiting rejects at once.
   */
  parse(path: string, options: ParseOptions = {}): Promise<ParsedDocument> {
    const { signal } = options;
    if (this.disposed) return Promise.reject(disposedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<ParsedDocument>((resolve, reject) => {
      let started = false;
      const onQueuedAbort = (): void => {
        if (!started) reject(signal?.reason);
      };
      signal?.addEventListener('abort', onQueuedAbort, { once: true });
      void this.parses.queue(async () => {
        started = true;
        signal?.removeEventListener('abort', onQueuedAbort);
        if (signal?.aborted) return; // already rejected while it waited
        try {
          resolve(await this.run(path, signal));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Stops the parser process; a parse in flight or waiting rejects. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const sandbox = this.sandbox; // taken first: failing the parse in flight forgets it
    this.failCurrent?.(disposedError());
    this.sandbox = null;
    this.ready = null;
    if (sandbox) await sandbox.kill();
  }

  private async run(path: string, signal: AbortSignal | undefined): Promise<ParsedDocument> {
    if (this.disposed) throw disposedError();
    let sandbox = await this.startedSandbox(signal);
    if (!sandbox.alive) {
      // It died idle (killed from outside?) and its exit is not handled yet: not this file's fault.
      await this.discard(sandbox);
      if (this.disposed) throw disposedError();
      sandbox = await this.startedSandbox(signal);
    }
    // An abort that landed while the process was starting would not fire the listener added below.
    if (signal?.aborted) throw signal.reason;
    const { child } = sandbox;
    const id = this.nextId++;
    return new Promise<ParsedDocument>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        child.off('message', onMessage);
        sandbox.onExit = null;
        signal?.removeEventListener('abort', onAbort);
        this.failCurrent = null;
        if (this.sandbox === sandbox) sandbox.setActive(false);
        return true;
      };
      // Killing first means the next request never lands on a process still chewing on this file.
      const failAndKill = (error: unknown): void => {
        if (!settle()) return;
        void this.discard(sandbox).then(() => reject(error));
      };
      const onMessage = (raw: unknown): void => {
        const message = raw as WorkerMessage;
        if (!('id' in message) || message.id !== id || !settle()) return;
        if (message.ok) resolve(message.doc);
        else reject(new DocumentProblem(message.code, message.message));
      };
      const onAbort = (): void => failAndKill(signal?.reason);
      const timer = setTimeout(() => failAndKill(new DocumentProblem('TIMEOUT', `took longer than ${seconds(this.timeoutMs)} s to parse`)), this.timeoutMs);
      this.failCurrent = failAndKill;
      sandbox.onExit = (exit) => failAndKill(this.crashProblem(sandbox, exit));
      child.on('message', onMessage);
      signal?.addEventListener('abort', onAbort, { once: true });
      sandbox.setActive(true); // a parse in flight keeps the process alive; an idle parser does not
      const ocr = this.ocr() ? { budgetMs: Math.floor(this.timeoutMs * OCR_TIME_SHARE), maxRssMb: this.maxMemoryMb } : null;
      child.send({ id, path, maxBytes: this.maxBytes, ocr } satisfies ParseRequest, (error) => {
        if (error) failAndKill(new DocumentProblem('CORRUPT', `could not be handed to the parser: ${error.message}`));
      });
    });
  }

  /** Why the parser process died while it parsed a file: out of memory, or any other crash. */
  private crashProblem(sandbox: Sandbox, exit: Exit): DocumentProblem {
    if (sandbox.outOfMemory || (exit.signal !== null && FATAL_SIGNALS.includes(exit.signal))) {
      return new DocumentProblem('OUT_OF_MEMORY', `needs more than the ${this.maxMemoryMb} MB the parser may use`);
    }
    const last = sandbox.lastError();
    return new DocumentProblem('CORRUPT', `crashed the parser (${describeExit(exit)})${last ? `: ${last}` : ''}`);
  }

  /** The live parser process, started (and its modules loaded) on first use or after one was killed. */
  private startedSandbox(signal: AbortSignal | undefined): Promise<Sandbox> {
    this.ready ??= this.spawn();
    const ready = this.ready;
    if (!signal) return ready;
    return new Promise<Sandbox>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      ready.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private spawn(): Promise<Sandbox> {
    let sandbox: Sandbox;
    try {
      sandbox = new Sandbox(
        fork(this.workerPath, [], {
          execArgv: [`--max-old-space-size=${this.maxMemoryMb}`, ...(this.workerPath.endsWith('.ts') ? ['--import', tsxLoader(this.workerPath)] : [])],
          // Inside the Electron app process.execPath is Electron itself: this makes it plain Node.
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
          // Structured clone, so a ParsedDocument crosses as it is.
          serialization: 'advanced',
          // stderr is kept (its tail says why the process died); a fatal error's V8 dump stays out of ours.
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        }),
      );
    } catch (error) {
      return Promise.reject(new Error(`The document parser failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
    this.sandbox = sandbox;
    void sandbox.exited.then(() => {
      if (this.sandbox === sandbox) {
        this.sandbox = null;
        this.ready = null;
      }
    });
    const { child } = sandbox;
    return new Promise<Sandbox>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('error', onError);
        sandbox.onExit = null;
      };
      const fail = (error: Error): void => {
        done();
        void this.discard(sandbox).then(() => reject(this.disposed ? disposedError() : error));
      };
      const onMessage = (raw: unknown): void => {
        if (!('ready' in (raw as WorkerMessage))) return;
        done();
        sandbox.setActive(false);
        resolve(sandbox);
      };
      const onError = (error: Error): void => fail(new Error(`The document parser failed to start: ${error.message}${sandbox.stderrNote()}`, { cause: error }));
      const timer = setTimeout(() => fail(new Error(`The document parser did not start within ${seconds(STARTUP_TIMEOUT_MS)} s${sandbox.stderrNote()}`)), STARTUP_TIMEOUT_MS);
      sandbox.onExit = (exit) => fail(new Error(`The document parser failed to start (${describeExit(exit)})${sandbox.stderrNote()}`));
      child.on('message', onMessage);
      child.on('error', onError);
      sandbox.setActive(true); // starting up means a parse is waiting for it
    });
  }

  /** Forgets a parser process that can no longer be trusted and waits (a bounded time) for it to stop. */
  private async discard(sandbox: Sandbox): Promise<void> {
    if (this.sandbox === sandbox) {
      this.sandbox = null;
      this.ready = null;
    }
    await sandbox.kill();
  }
}

/** One forked parser process: its stderr tail, its exit, and whether it keeps the event loop alive. */
class Sandbox {
  /** Called once when the process has exited and its stderr is read (set while someone waits on it). */
  onExit: ((exit: Exit) => void) | null = null;
  /** Resolves when the process has exited and its stderr has been read (or a short wait for it ran out). */
  readonly exited: Promise<Exit>;
  /** Whether V8 said it ran out of memory (seen as stderr streams in, so a long native stack after it does not hide it). */
  outOfMemory = false;
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    // Always listened to: an 'error' event with no listener would take down the whole process.
    child.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (!this.outOfMemory && OUT_OF_MEMORY_PATTERN.test(this.stderr.slice(-256) + chunk)) this.outOfMemory = true;
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.exited = new Promise<Exit>((resolve) => {
      let drain: NodeJS.Timeout | undefined;
      // 'close' comes once stderr is fully read too; 'exit' alone could leave its last lines unread.
      child.once('exit', (code, signal) => {
        drain = setTimeout(() => resolve({ code, signal }), STDERR_DRAIN_MS);
      });
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(drain);
        resolve({ code, signal });
      });
    });
    void this.exited.then((exit) => this.onExit?.(exit));
  }

  /** Whether the process still runs and can be sent a request. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.connected;
  }

  /** Whether the process (its handle, IPC channel and stderr pipe) keeps this process's event loop alive. */
  setActive(active: boolean): void {
    const stderr = this.child.stderr as (NodeJS.ReadableStream & { ref?: () => void; unref?: () => void }) | null;
    if (active) {
      this.child.ref();
      this.child.channel?.ref();
      stderr?.ref?.();
    } else {
      this.child.unref();
      this.child.channel?.unref();
      stderr?.unref?.();
    }
  }

  /** Kills the process (if it still runs) and waits, a bounded time, until it is gone and reaped. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, TERMINATE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The last line of stderr that reads like an error, for a one-line reason. */
  lastError(): string | null {
    const lines = this.stderr
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('at ') && !/^Node\.js v\d/.test(line) && !/^\^+$/.test(line));
    const line = lines.findLast((candidate) => /error|fatal|abort|assert/i.test(candidate)) ?? lines[lines.length - 1];
    return line === undefined ? null : line.length > 300 ? `${line.slice(0, 300)}…` : line;
  }

  /** The end of stderr, for a start-up failure (where the whole of it is the diagnosis). */
  stderrNote(): string {
    const tail = this.stderr.trim().slice(-2000);
    return tail ? `:\n${tail}` : '';
  }
}

/**
 * `--import` for tsx, resolved from the entry itself (the repository holding the sources), so the
 * child finds tsx whatever the working directory it inherits.
 */
function tsxLoader(workerPath: string): string {
  try {
    return pathToFileURL(createRequire(workerPath).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function disposedError(): Error {
  return new Error('The document parser has been disposed');
}
