// Child process for the network ledger's test of a hook that waits for the first request:
// a fresh process, in which nothing has loaded Node's fetch (undici) yet.
//
//   egressChild.ts LEDGER_FILE URL purpose-first   egressFetch first, then the global fetch, bound and bare
//   egressChild.ts LEDGER_FILE URL global-first    a fetch bound to the global (as the web3.storage client makes one), then egressFetch
import { egressFetch } from '../../src-main/core/common/egress';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { NetworkLedger } from '../../src-main/core/network/networkLedger';

const [file, url, order] = process.argv.slice(2) as [string, string, 'purpose-first' | 'global-first'];
const dispatcherSymbol = Symbol.for('undici.globalDispatcher.1');
const loaded = () => (globalThis as unknown as Record<symbol, unknown>)[dispatcherSymbol] !== undefined;

const loadedBefore = loaded();
const ledger = NetworkLedger.open({ file, logger: createConsoleLogger('error') });
const loadedAtOpen = loaded();
// Made after the ledger opened, before anything was sent: what a library's client does.
const bound = globalThis.fetch.bind(globalThis);
const send = async (what: () => Promise<Response>) => void (await (await what()).arrayBuffer());
if (order === 'purpose-first') {
  await send(() => egressFetch('hub-api', `${url}/purpose`));
  await send(() => bound(`${url}/bound`));
  await send(() => fetch(`${url}/bare`));
} else {
  await send(() => bound(`${url}/bound`));
  await send(() => egressFetch('hub-api', `${url}/purpose`));
  await send(() => fetch(`${url}/bare`));
}
// Records are written as each request ends; give the last one a turn.
await new Promise((resolve) => setTimeout(resolve, 50));
const requests = ledger
  .view({ limit: 10 })
  .requests.sort((a, b) => a.id - b.id)
  .map((r) => ({ purpose: r.purpose, status: r.status, local: r.local, counted: r.bytesIn > 0 && r.bytesOut > 0 }));
ledger.close();
process.stdout.write(JSON.stringify({ loadedBefore, loadedAtOpen, requests }));
