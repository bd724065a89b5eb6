import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openRegularFile,
  readFileOrPipe,
  readRegularFile,
  readRegularFilePrefix,
  statRegularFile,
  withFileDeadline,
} from '../../../src-main/core/common/regularFile';
import { tempDir } from '../../support/tempDir';

/** Real FIFOs, a real unix socket and a real device: none may be opened, each is refused at once. */
describe('regularFile: user-named paths are checked before they are opened', () => {
  const dir = tempDir('hearth-regular-');
  const fifo = join(dir.path, 'x.gguf');
  const socketPath = join(dir.path, 'sock.gguf');
  const file = join(dir.path, 'real.txt');
  let server: Server;

  beforeAll(async () => {
    execFileSync('mkfifo', [fifo]);
    writeFileSync(file, 'GGUF and more');
    server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.cleanup();
  });

  it('refuses a FIFO, a socket and a character device with NOT_A_REGULAR_FILE, naming the path and what it is', async () => {
    const started = Date.now();
    await expect(statRegularFile(fifo)).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE', message: expect.stringContaining(`${fifo} is a pipe (FIFO)`) });
    await expect(openRegularFile(fifo)).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    await expect(readRegularFilePrefix(fifo, 4, { expected: 'a model file' })).rejects.toMatchObject({
      code: 'NOT_A_REGULAR_FILE',
      message: expect.stringContaining('not a model file'),
    });
    await expect(readRegularFile(socketPath)).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE', message: expect.stringContaining('is a socket') });
    await expect(readRegularFile('/dev/null')).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE', message: expect.stringContaining('a character device') });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reads a regular file, and leaves a folder and a missing path to the caller’s wording (EISDIR, ENOENT)', async () => {
    expect((await readRegularFilePrefix(file, 4)).toString()).toBe('GGUF');
    expect((await readRegularFile(file)).toString()).toBe('GGUF and more');
    await expect(statRegularFile(dir.path)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(openRegularFile(join(dir.path, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('answers FILE_TIMEOUT when a step outlives its deadline, and disposes of a late result', async () => {
    let late: string | null = null;
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve('handle'), 150));
    await expect(withFileDeadline(slow, '/mnt/stale', 'Opening', 30, (value) => (late = value))).rejects.toMatchObject({
      code: 'FILE_TIMEOUT',
      message: expect.stringContaining('Opening /mnt/stale took longer than'),
    });
    await slow;
    expect(late).toBe('handle');
  });

  it('reads a named pipe given as a secret file once its writer writes, within the time limit', async () => {
    const pipe = join(dir.path, 'secret.fifo');
    execFileSync('mkfifo', [pipe]);
    const writer = spawn('sh', ['-c', `printf 'correct horse' > '${pipe}'`]);
    const closed = new Promise((resolve) => writer.once('close', resolve));
    const text = await readFileOrPipe(pipe, { pipeTimeoutMs: 5_000, maxBytes: 1024 });
    expect(text.toString()).toBe('correct horse');
    await closed;
  });

  it('gives up on a named pipe nobody writes with FILE_TIMEOUT, and refuses a socket', async () => {
    const started = Date.now();
    await expect(readFileOrPipe(fifo, { pipeTimeoutMs: 200, maxBytes: 1024 })).rejects.toMatchObject({ code: 'FILE_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(readFileOrPipe(socketPath, { pipeTimeoutMs: 200, maxBytes: 1024 })).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    expect((await readFileOrPipe(file, { pipeTimeoutMs: 200, maxBytes: 1024 })).toString()).toBe('GGUF and more');
  });

  it('refuses a pipe that gives more than the limit', async () => {
    const pipe = join(dir.path, 'endless.fifo');
    execFileSync('mkfifo', [pipe]);
    const writer = spawn('sh', ['-c', `head -c 100000 /dev/zero > '${pipe}'`]);
    const closed = new Promise((resolve) => writer.once('close', resolve));
    await expect(readFileOrPipe(pipe, { pipeTimeoutMs: 5_000, maxBytes: 1024 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await closed;
  });
});
