/** How the vault's records are shown: a publish target as listed, and when the next scheduled snapshot is due. */

import type { VaultSchedule, VaultSnapshot, VaultTarget } from '#contract/dto';
import { capabilitiesOf, targetLocation } from './targets/targetRegistry';
import type { DamagedTargetRow, TargetRow } from './vaultRepository';

/** A damaged target is listed so it can be seen and removed: its location says what is wrong. */
export function toTarget(row: TargetRow | DamagedTargetRow): VaultTarget {
  const kind = row.config ? row.config.kind : row.kind;
  return {
    id: row.id,
    kind,
    name: row.name,
    location: row.config ? targetLocation(row.config) : `damaged settings (${row.problem}): remove this target and add it again`,
    keepsPointer: row.config !== null && capabilitiesOf(kind).latestPointer,
    createdAt: row.createdAt,
  };
}

/** When the schedule wants the next snapshot: null without a schedule, now when there was none yet. */
export function nextSnapshotAt(schedule: VaultSchedule, last: VaultSnapshot | null): number | null {
  if (schedule.intervalHours === null) return null;
  return last ? last.createdAt + schedule.intervalHours * 3_600_000 : Date.now();
}
