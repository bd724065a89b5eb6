import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** Resolves with the promise's outcome, or fails the test when it takes longer than `ms` (a hang). */
async function promptly<T>(what: string, work: Promise<T>, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A FIFO named *.gguf (and a socket) in the models folder and in an extra models folder, with
 * a real model beside them: listing answers and lists the real model, adding, importing or
 * fitting the FIFO is refused with NOT_A_REGULAR_FILE, and the fs thread pool is never
 * blocked (a FIFO's open() would block a pool thread until a writer came).
 */
describe('non-regular files in the models folders and in user-named paths', () => {
  const extra = tempDir('hearth-extra-models-');
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let socket: Server;
  let fifo: string;
  let extraFifo: string;
  let small: string;

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ extraModelDirs: [extra.path] }));
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    copyFileSync(await testModelPath('stories260K'), join(dataDir, 'models', 'stories260K.gguf'));
    fifo = join(dataDir, 'models', 'x.gguf');
    execFileSync('mkfifo', [fifo]);
    extraFifo = join(extra.path, 'pipe.gguf');
    execFileSync('mkfifo', [extraFifo]);
    socket = createServer();
    await new Promise<void>((resolve) => socket.listen(join(extra.path, 'sock.gguf'), resolve));
    small = join(dataDir, 'small.txt');
    writeFileSync(small, 'still answering');
  });
  afterAll(async () => {
    await new Promise((resolve) => socket.close(resolve));
    await cleanup();
    extra.cleanup();
  });

  it('lists the regular models promptly and skips the FIFO and the socket, many times over', async () => {
    for (let i = 0; i < 10; i++) {
      const models = await promptly(`models.list #${i + 1}`, core.models.list());
      expect(models.map((m) => m.path)).toEqual([join(dataDir, 'models', 'stories260K.gguf')]);
    }
    // Ten listings later the thread pool still serves file reads at once.
    expect(await promptly('a file read after the listings', readFile(small, 'utf8'), 1_000)).toBe('still answering');
  });

  it('refuses to add, import (copied or not) or fit a FIFO with NOT_A_REGULAR_FILE', async () => {
    const refused = { code: 'NOT_A_REGULAR_FILE', message: expect.stringContaining(`${fifo} is a pipe (FIFO), not a model file`) };
    await expect(promptly('models.add', core.models.add(fifo))).rejects.toMatchObject(refused);
    await expect(promptly('models.import', core.models.import(fifo, false))).rejects.toMatchObject(refused);
    await expect(promptly('models.import --copy', core.models.import(fifo, true))).rejects.toMatchObject(refused);
    await expect(promptly('models.fit', core.runner.fit({ kind: 'file', path: fifo }))).rejects.toMatchObject(refused);
    await expect(promptly('models.add of a socket', core.models.add(join(extra.path, 'sock.gguf')))).rejects.toMatchObject({
      code: 'NOT_A_REGULAR_FILE',
      message: expect.stringContaining('is a socket'),
    });
    await expect(promptly('models.add of a device', core.models.add('/dev/zero'))).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    expect(await promptly('a file read after the refusals', readFile(small, 'utf8'), 1_000)).toBe('still answering');
  });

  it('refuses a FIFO as a document source with NOT_A_REGULAR_FILE', async () => {
    const collection = core.library.createCollection('Pipes');
    expect(() => core.library.addSource(collection.id, fifo)).toThrow(
      expect.objectContaining({ code: 'NOT_A_REGULAR_FILE', message: expect.stringContaining('not a folder or a regular file') }),
    );
    expect(core.library.sources(collection.id)).toEqual([]);
  });
});
