/**
 * The bench's clients: an OpenAI-style streaming chat request timed where its bytes arrive
 * (used against Hearth's /v1 and llama.cpp's llama-server alike), and llama-server itself,
 * started on a free port and stopped.
 */
import { Worker } from 'node:worker_threads';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { MessageRole } from '#contract/vocabulary';

export interface ChatMessage {
  role: MessageRole | 'system';
  content: string;
}

export interface StreamSample {
  ttftMs: number;
  /** Completion tokens: the usage the server reports, else one per content chunk. */
  tokens: number;
  /** Tokens after the first over the time from the first to the last content (the reply's end work is apart). */
  decodeTokensPerSecond: number;
  /** From the last content to the end of the reply (the stream's close; raw: generateResponse resolving). */
  endMs: number;
  totalMs: number;
  text: string;
  /** Prompt tokens the server evaluated, where it says (llama-server's timings). */
  evaluatedPromptTokens: number | null;
}

export interface StreamTarget {
  baseUrl: string;
  headers: Record<string, string>;
  model: string;
  /** Extra body fields (llama-server: ignore_eos, cache_prompt). */
  extra?: Record<string, unknown>;
}

/** One streamed /v1/chat/completions request, greedy, timed from the request to each chunk. */
export async function streamChat(target: StreamTarget, messages: ChatMessage[], maxTokens: number): Promise<StreamSample> {
  const start = performance.now();
  const response = await fetch(`${target.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({
      model: target.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: maxTokens,
      temperature: 0,
      ...target.extra,
    }),
  });
  if (!response.ok || !response.body) throw new Error(`${target.baseUrl}: HTTP ${response.status} ${await response.text()}`);
  let first = 0;
  let last = 0;
  let chunks = 0;
  let usageTokens: number | null = null;
  let evaluatedPromptTokens: number | null = null;
  let text = '';
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split('\n').find((line) => line.startsWith('data: '))?.slice(6);
      if (!data || data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        choices?: { delta?: { content?: string | null } }[];
        usage?: { completion_tokens?: number } | null;
        timings?: { prompt_n?: number };
      };
      const content = chunk.choices?.[0]?.delta?.content;
      if (content) {
        last = performance.now();
        if (!first) first = last;
        chunks++;
        text += content;
      }
      if (chunk.usage?.completion_tokens !== undefined) usageTokens = chunk.usage.completion_tokens;
      if (chunk.timings?.prompt_n !== undefined) evaluatedPromptTokens = chunk.timings.prompt_n;
    }
  }
  const done = performance.now();
  const tokens = usageTokens ?? chunks;
  return {
    ttftMs: first - start,
    tokens,
    decodeTokensPerSecond: first && tokens > 1 && last > first ? (tokens - 1) / ((last - first) / 1000) : 0,
    endMs: last ? done - last : 0,
    totalMs: done - start,
    text,
    evaluatedPromptTokens,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface LlamaServer {
  target: StreamTarget;
  stop(): Promise<void>;
}

/** Starts llama.cpp's llama-server on the model, waiting until /health says it is ready. */
export async function startLlamaServer(binary: string, options: { model: string; threads: number; contextPerSlot: number; slots: number }): Promise<LlamaServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      '-m', options.model,
      '--host', '127.0.0.1',
      '--port', String(port),
      '-t', String(options.threads),
      '-tb', String(options.threads),
      '-c', String(options.contextPerSlot * options.slots),
      '-np', String(options.slots),
      '-b', '512',
      '-ub', '512',
      '-ngl', '0',
      '--no-warmup',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (data: Buffer) => {
    log = (log + data.toString()).slice(-4000);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    // A crash (SIGILL from a CPU feature the build assumed, say) leaves exitCode null: check both.
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`llama-server exited (${child.exitCode ?? child.signalCode}):\n${log}`);
    const ok = await fetch(`${baseUrl}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`llama-server did not start in 120 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    target: { baseUrl, headers: {}, model: 'model', extra: { cache_prompt: true } },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** streamChat run by a client in a worker thread (bench/apiClientWorker.ts), off the serving event loop. */
export class WorkerClient {
  // The worker registers tsx's loader first, then loads the TypeScript client, as the bench itself runs.
  private readonly worker = new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(new URL('./apiClientWorker.ts', import.meta.url).href)}); });`,
    { eval: true },
  );
  private readonly pending = new Map<number, { resolve: (sample: StreamSample) => void; reject: (error: Error) => void }>();
  private next = 0;

  constructor() {
    this.worker.on('message', (message: { id: number; sample?: StreamSample; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.sample) waiting?.resolve(message.sample);
      else waiting?.reject(new Error(message.error));
    });
  }

  streamChat(target: StreamTarget, messages: ChatMessage[], maxTokens: number): Promise<StreamSample> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, target, messages, maxTokens });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
