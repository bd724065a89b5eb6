import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SseStream } from '../../src-main/cli/api/sseStream';

/** A raw HTTP/1.1 client that keeps each chunk of the chunked body apart: one chunk is one write. */
class ChunkReader {
  readonly chunks: string[] = [];
  ended = false;
  private raw = Buffer.alloc(0);
  private headersDone = false;
  private waiters: (() => void)[] = [];

  push(data: Buffer): void {
    this.raw = Buffer.concat([this.raw, data]);
    if (!this.headersDone) {
      const end = this.raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.headersDone = true;
      this.raw = this.raw.subarray(end + 4);
    }
    for (;;) {
      const line = this.raw.indexOf('\r\n');
      if (line < 0) break;
      const size = parseInt(this.raw.subarray(0, line).toString(), 16);
      if (this.raw.length < line + 2 + size + 2) break;
      if (size === 0) this.ended = true;
      else this.chunks.push(this.raw.subarray(line + 2, line + 2 + size).toString());
      this.raw = this.raw.subarray(line + 2 + size + 2);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** Serves one request with `handler` on 127.0.0.1 and reads it as ChunkReader. */
async function stream(handler: (res: ServerResponse, reader: ChunkReader) => Promise<void>): Promise<ChunkReader> {
  const reader = new ChunkReader();
  let handled: Promise<void> = Promise.resolve();
  const server = createServer((_req, res) => {
    handled = handler(res, reader);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  socket.on('data', (data: Buffer) => reader.push(data));
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await reader.until(() => reader.ended);
  await handled;
  socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  return reader;
}

const event = (data: unknown, name?: string) => `${name ? `event: ${name}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('SseStream: the same events, written together off the token path', () => {
  it('writes each event as its own data: event, in order; a burst sent in one turn goes out in one write', async () => {
    const burst = Array.from({ length: 50 }, (_, i) => ({ choices: [{ delta: { content: `t${i}` } }] }));
    const reader = await stream(async (res, client) => {
      const sse = new SseStream(res);
      sse.announce({ role: 'assistant' });
      await client.until(() => client.chunks.length === 1);
      for (const data of burst) sse.send(data);
      sse.send({ type: 'named' }, 'content_block_delta');
      await client.until(() => client.chunks.length === 2);
      sse.send({ finish_reason: 'stop' });
      sse.send('[DONE]');
      sse.end();
    });
    expect(reader.chunks).toEqual([
      event({ role: 'assistant' }),
      burst.map((data) => event(data)).join('') + event({ type: 'named' }, 'content_block_delta'),
      event({ finish_reason: 'stop' }) + event('[DONE]'),
    ]);
  });

  it('sends the opening event and the first event after it at once, and holds the rest of a window until end', async () => {
    let beforeEnd = -1;
    const reader = await stream(async (res, client) => {
      // A window far longer than the test: only end() can write what it holds.
      const sse = new SseStream(res, 60_000);
      sse.announce('open');
      await client.until(() => client.chunks.length === 1);
      sse.send('first');
      await client.until(() => client.chunks.length === 2);
      sse.send('second');
      await turns(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      sse.send('third');
      beforeEnd = client.chunks.length;
      sse.end();
    });
    expect(beforeEnd).toBe(2);
    expect(reader.chunks).toEqual([event('open'), event('first'), event('second') + event('third')]);
  });

  it('writes after the work the event loop already queued (node-llama-cpp dispatches the next decode so)', async () => {
    let atQueuedWork = -1;
    let before = -1;
    const reader = await stream(async (res, client) => {
      const sse = new SseStream(res);
      sse.announce('open');
      await client.until(() => client.chunks.length === 1);
      before = res.socket!.bytesWritten;
      sse.send('token');
      setImmediate(() => {
        atQueuedWork = res.socket!.bytesWritten;
      });
      await client.until(() => client.chunks.length === 2);
      sse.end();
    });
    expect(atQueuedWork).toBe(before);
    expect(reader.chunks).toEqual([event('open'), event('token')]);
  });

  it('stays quiet when the client has gone: later events and end write nothing and throw nothing', async () => {
    const reader = new ChunkReader();
    const closed = new Promise<void>((resolve, reject) => {
      const server = createServer((_req, res) => {
        const sse = new SseStream(res);
        sse.send('before');
        res.on('close', () => {
          try {
            sse.send('after');
            sse.end();
            expect(sse.started).toBe(true);
            server.close(() => resolve());
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
        socket.on('data', (data: Buffer) => {
          reader.push(data);
          if (reader.chunks.length > 0) socket.destroy();
        });
        socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
    });
    await closed;
    expect(reader.chunks).toEqual([event('before')]);
  });
});
