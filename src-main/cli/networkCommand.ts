import type { NetworkHostTotal, NetworkLedgerView, NetworkRequest } from '#contract/dto';
import { contractInput } from './contractInput';
import { defineCommand } from './declare/commandSpec';
import { flag, integer } from './declare/options';
import { formatBytes, table } from './format';
import { withCore } from './openCore';
import { printResult } from './output';
import { coreOptions, jsonOption } from './sharedOptions';

/** `hearth network`: the network ledger, what left this machine and why. */
export const networkCommand = defineCommand({
  name: 'network',
  summary: 'What Hearth sent over the network: hosts, purposes, bytes (--json)',
  description: `Shows the network ledger: every HTTP request Hearth made from this data directory (the
desktop app, the server and these commands alike), with its host, purpose, status and the bytes
sent and received, and the totals per host since the ledger began. Requests to this machine
(localhost, 127.0.0.1, ::1: a local IPFS node, a LAN mirror tunnelled to localhost) are listed
as local; when every request was local, it says that nothing has left this machine.`,
  options: {
    ...jsonOption('The ledger as JSON: since, remote totals, hosts, requests'),
    remote: flag('Only requests to other machines'),
    limit: integer('N', 'How many of the latest requests to list (default 50, at most 10000)', { min: 1, max: 10_000 }).orElse(50).alias('n'),
    ...coreOptions,
  },
  positionals: {},
  run: ({ command, options }, ctx) => {
    const input = contractInput('network.ledger', { limit: options.limit, remoteOnly: options.remote }, command, { limit: '--limit', remoteOnly: '--remote' });
    return withCore(
      options,
      ctx,
      (core) => {
        const view = core.network.view(input);
        printResult(ctx, options.json, view, () => ledgerText(view));
        return Promise.resolve(0);
      },
      { library: { watch: false } },
    );
  },
});

/** The ledger for people: the verdict first, then hosts, then the latest requests. */
export function ledgerText(view: NetworkLedgerView): string {
  const lines = [`Network ledger of this data directory, since ${time(view.since)}.`];
  lines.push(
    view.remote.requests === 0
      ? 'Nothing has left this machine: every request went to this machine itself.'
      : `${view.remote.requests} request${view.remote.requests === 1 ? '' : 's'} went to other machines: ${formatBytes(view.remote.bytesOut)} sent, ${formatBytes(view.remote.bytesIn)} received.`,
  );
  if (view.hosts.length > 0) lines.push('', 'Hosts (all time):', table([['HOST', 'PURPOSE', 'REQUESTS', 'SENT', 'RECEIVED', 'LAST'], ...view.hosts.map(hostRow)]));
  if (view.requests.length > 0) lines.push('', 'Latest requests:', table([['TIME', 'METHOD', 'HOST', 'PURPOSE', 'STATUS', 'SENT', 'RECEIVED'], ...view.requests.map(requestRow)]));
  lines.push('', `Kept: the latest ${view.retention.maxRequests} requests of the last ${view.retention.maxAgeDays} days; the totals per host are never pruned.`);
  return lines.join('\n');
}

function hostRow(host: NetworkHostTotal): string[] {
  return [hostLabel(host), host.purpose, String(host.requests), formatBytes(host.bytesOut), formatBytes(host.bytesIn), time(host.lastAt)];
}

function requestRow(request: NetworkRequest): string[] {
  const status = request.status !== null ? String(request.status) : `no answer${request.error ? ` (${request.error.slice(0, 60)})` : ''}`;
  return [time(request.at), request.method, hostLabel(request), request.purpose, status, formatBytes(request.bytesOut), formatBytes(request.bytesIn)];
}

function hostLabel(entry: { host: string; local: boolean }): string {
  return entry.local ? `${entry.host} (local)` : entry.host;
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
