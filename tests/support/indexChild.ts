// Child process for the kill -9 test: builds a real core on a data directory, adds a folder
// to a collection, prints the indexing job's id, and runs until it is killed.
//
//   indexChild.ts DATA_DIR FOLDER
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { CATALOG_PATH, PARSE_WORKER_PATH } from './testCore';
import { testModelPath } from './testModels';

const [dataDir, folder] = process.argv.slice(2);
const core = createCore(
  { dataDir: dataDir!, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false, writeBatchChunks: 8 } },
  { logger: createConsoleLogger('error') },
);
const model = await core.models.add(await testModelPath('stories260K'));
core.models.setDefault('embedding', model.id);
const collection = core.library.ensureCollection('Docs');
const { job } = core.library.addSource(collection.id, folder!);
process.stdout.write(`${job.id}\n`);
