import type BetterSqlite3 from 'better-sqlite3';
import { fileError, isDiskFull } from '../common/fsErrors';

type Db = BetterSqlite3.Database;
type AnyFunction = (...args: unknown[]) => unknown;

const STATEMENT_METHODS = ['run', 'get', 'all', 'iterate'] as const;
const TRANSACTION_VARIANTS = ['deferred', 'immediate', 'exclusive'] as const;

/**
 * Makes every write through `db` report a full disk as DISK_FULL naming its file, instead of
 * the bare SqliteError (SQLITE_FULL, or an I/O error carrying ENOSPC) that reads as INTERNAL.
 * Done once where the file is opened, so no repository has to remember it: statements,
 * exec, pragmas (a WAL checkpoint writes) and transactions (their COMMIT writes) are wrapped.
 * Every other error passes through unchanged.
 */
export function guardDiskFull(db: Db, file: string): Db {
  const translate = <F extends AnyFunction>(fn: F, self: unknown): F =>
    function (this: unknown, ...args: unknown[]) {
      try {
        return fn.apply(self ?? this, args);
      } catch (error) {
        throw isDiskFull(error) ? fileError(error, file) : error;
      }
    } as F;

  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source) as unknown as Record<string, AnyFunction>;
    for (const name of STATEMENT_METHODS) {
      const method = statement[name];
      if (method) statement[name] = translate(method, statement);
    }
    return statement;
  }) as unknown as Db['prepare'];

  db.exec = translate(db.exec.bind(db) as AnyFunction, db) as unknown as Db['exec'];
  db.pragma = translate(db.pragma.bind(db) as AnyFunction, db) as unknown as Db['pragma'];

  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: AnyFunction) => {
    const run = transaction(fn) as unknown as Record<string, AnyFunction> & AnyFunction;
    const wrapped = Object.assign(translate(run, null), run) as Record<string, AnyFunction> & AnyFunction;
    for (const variant of TRANSACTION_VARIANTS) {
      const inner = run[variant];
      if (inner) wrapped[variant] = translate(inner, null);
    }
    wrapped.default = wrapped;
    return wrapped;
  }) as unknown as Db['transaction'];
  return db;
}
