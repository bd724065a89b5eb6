import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceKind } from '#contract/vocabulary';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { HUB_TOKEN_SECRET } from '../../src-main/core/models/hubClient';
import type { Dialogs } from '../../src-main/core/ports/dialogs';
import { createDispatcher, type Dispatch } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { indexPath } from '../support/libraryCore';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';
import { tempDir } from '../support/tempDir';

/** A host's viewer that records what it was asked to open, and can be switched off (as the server has none). */
class RecordingViewer implements Dialogs {
  canOpen = true;
  readonly opened: { path: string; page: number | null }[] = [];

  pickModelFile(): Promise<string | null> {
    return Promise.resolve(null);
  }

  pickSource(_kind: SourceKind): Promise<string | null> {
    return Promise.resolve(null);
  }

  openDocument(path: string, page: number | null): Promise<boolean> {
    if (this.canOpen) this.opened.push({ path, page });
    return Promise.resolve(this.canOpen);
  }
}

/**
 * The calls whose behaviour used to live in the RPC handlers (opening a document, storing the
 * hub token) now live in their services: the contract reaches them in one call, with a real
 * core, real SQLite, LanceDB and the stories260K model as the embedder.
 */
describe('host calls go through their services', () => {
  const viewer = new RecordingViewer();
  const cleanups: (() => Promise<void> | void)[] = [];
  let core: Core;
  let dispatch: Dispatch;
  let notesPath: string;
  let docId: string;

  beforeAll(async () => {
    const data = tempDir('hearth-host-calls-');
    cleanups.push(data.cleanup);
    core = createCore(
      { dataDir: data.path, host: 'desktop', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
      { logger: createConsoleLogger('error'), dialogs: viewer },
    );
    cleanups.unshift(() => core.dispose());
    const model = await core.models.add(await testModelPath('stories260K'));
    core.models.setDefault('embedding', model.id);
    const docs = tempDir('hearth-host-calls-docs-');
    cleanups.push(docs.cleanup);
    notesPath = join(docs.path, 'notes.md');
    writeFileSync(notesPath, '# Notes\n\nThe lighthouse keeper logs the weather at dawn.\n');
    const { source } = await indexPath(core, docs.path);
    docId = core.library.documents({ sourceId: source.id })[0]!.id;
    dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('documents.open hands the document file and page to the host viewer', async () => {
    expect(await dispatch('documents.open', { docId, page: 3 })).toEqual({ ok: true, value: null });
    expect(await core.library.openDocument(docId, null)).toBeUndefined();
    expect(viewer.opened).toEqual([
      { path: notesPath, page: 3 },
      { path: notesPath, page: null },
    ]);
  });

  it('documents.open says UNSUPPORTED where the host cannot open files, and DOCUMENT_NOT_FOUND for an unknown id', async () => {
    viewer.canOpen = false;
    try {
      expect(await dispatch('documents.open', { docId })).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    } finally {
      viewer.canOpen = true;
    }
    const opened = viewer.opened.length;
    expect(await dispatch('documents.open', { docId: 'no-such-document' })).toMatchObject({ ok: false, error: { code: 'DOCUMENT_NOT_FOUND' } });
    expect(viewer.opened).toHaveLength(opened);
  });

  it('hub.setToken stores the token in the secret store, the hub sends it, and null forgets it', async () => {
    expect(await core.hub.authHeaders()).toEqual({});
    expect(await dispatch('hub.setToken', { token: 'hf_test_token' })).toEqual({ ok: true, value: null });
    expect(await core.secrets.get(HUB_TOKEN_SECRET)).toBe('hf_test_token');
    expect(await core.hub.authHeaders()).toEqual({ Authorization: 'Bearer hf_test_token' });
    expect(await dispatch('hub.setToken', { token: null })).toEqual({ ok: true, value: null });
    expect(await core.secrets.get(HUB_TOKEN_SECRET)).toBeNull();
    expect(await core.hub.authHeaders()).toEqual({});
  });
});
