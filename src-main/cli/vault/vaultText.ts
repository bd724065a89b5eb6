import type { VaultSchedule, VaultSnapshot, VaultStatus, VaultTarget } from '#contract/dto';
import { formatBytes, table, terminalSafe } from '../format';

/** How the vault commands show snapshots, targets, the schedule and the status as text. */

export const NO_TARGETS = 'No targets yet. Add one with: hearth vault target add folder DIR';

export function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

export function scheduleText(schedule: VaultSchedule, targets: VaultTarget[]): string {
  const what = ['data', ...(schedule.includeModels ? ['models'] : []), ...(schedule.includeDocuments ? ['documents'] : [])].join(', ');
  const target = schedule.targetId ? (targets.find((t) => t.id === schedule.targetId)?.name ?? schedule.targetId) : null;
  const cadence = schedule.intervalHours === null ? 'manual only' : `every ${schedule.intervalHours} h while the app or server runs`;
  return `${cadence}; ${what}; ${target ? `published to ${terminalSafe(target)}` : 'kept on this machine'}; keeps the last ${schedule.keep}${schedule.keepModelBlocks ? '' : '; model blocks kept only on the target'}`;
}

export function statusText(status: VaultStatus, targets: VaultTarget[]): string {
  if (status.state === 'none') {
    return 'No wallet yet. Create one with: hearth vault init (or bring yours: hearth vault import --phrase-file FILE)\n';
  }
  const last = status.lastSnapshot;
  const lines = [
    ['State', `${status.state}${status.remembered ? ' (passphrase remembered)' : ''}`],
    ['Address', status.address ?? ''],
    ['Schedule', scheduleText(status.schedule, targets)],
    ['Next snapshot', status.nextSnapshotAt === null ? '-' : when(status.nextSnapshotAt)],
    ['Last snapshot', last ? `${last.cid} (${when(last.createdAt)}, ${last.files} files, ${formatBytes(last.bytes)}, ${publishedText(last)})` : 'none yet'],
  ];
  return `${table(lines.map(([k, v]) => [`${k}:`, v!]))}\n`;
}

function publishedText(snapshot: VaultSnapshot): string {
  const names = [...new Set(snapshot.publications.map((p) => p.targetName))];
  return names.length ? `published to ${names.join(', ')}` : 'not published';
}

export function snapshotTable(snapshots: VaultSnapshot[]): string {
  return table([
    ['CREATED', 'CID', 'FILES', 'SIZE', 'NEW', 'PUBLISHED TO'],
    ...snapshots.map((s) => [
      when(s.createdAt),
      s.cid,
      String(s.files),
      formatBytes(s.bytes),
      formatBytes(s.newBytes),
      [...new Set(s.publications.map((p) => p.targetName))].join(', ') || '-',
    ]),
  ]);
}

export function targetTable(targets: VaultTarget[]): string {
  return table([['ID', 'KIND', 'NAME', 'LOCATION'], ...targets.map((t) => [t.id, t.kind, t.name, t.location])]);
}
