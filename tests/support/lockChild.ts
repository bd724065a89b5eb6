// Child process for the cross-process lock tests.
//
//   lockChild.ts race LOCK LOG ITERATIONS HOLD_MS START_AT   take the lock ITERATIONS times, logging "in"/"out"
//   lockChild.ts hold LOCK                                   take it, print "held", keep it until killed
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../../src-main/core/common/processLock';

const [mode, lockPath, ...rest] = process.argv.slice(2);

if (mode === 'hold') {
  await acquireLock(lockPath!, { purpose: 'holding until killed', waitMs: 10_000 });
  process.stdout.write('held\n');
  setInterval(() => undefined, 60_000);
} else {
  const [log, iterations, holdMs, startAt] = rest.map((v, i) => (i === 0 ? v : Number(v))) as [string, number, number, number];
  await sleep(Math.max(0, startAt - Date.now()));
  for (let i = 0; i < iterations; i++) {
    const lock = await acquireLock(lockPath!, { purpose: 'racing', waitMs: 30_000 });
    appendFileSync(log, `in ${process.pid}\n`);
    await sleep(holdMs);
    appendFileSync(log, `out ${process.pid}\n`);
    await lock.release();
  }
}
