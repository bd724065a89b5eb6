// Child process for the "restore killed midway" test: restores a snapshot from a trustless
// gateway over a slow link (each block takes DELAY_MS), printing progress, until it is killed.
//
//   restoreChild.ts GATEWAY_URL ROOT_CID DATA_DIR PHRASE_FILE DELAY_MS
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CID } from 'multiformats/cid';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { GatewayFetcher } from '../../src-main/core/vault/targets/gatewayFetcher';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';

const [gatewayUrl, root, dataDir, phraseFile, delayMs] = process.argv.slice(2);
const gateway = new GatewayFetcher(gatewayUrl!);
const slow = {
  description: gateway.description,
  async get(cid: CID, options?: { signal?: AbortSignal }) {
    await sleep(Number(delayMs));
    return gateway.get(cid, options);
  },
};
await restoreSnapshot({
  wallet: walletFromPhrase(readFileSync(phraseFile!, 'utf8')),
  root: root!,
  fetcher: slow,
  dataDir: dataDir!,
  onProgress: (done, total) => process.stdout.write(`progress ${done} ${total}\n`),
});
process.stdout.write('done\n');
