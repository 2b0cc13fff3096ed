/**
 * Prepared statements by SQL text, per database. Preparing a statement costs
 * tens of microseconds; a repository method on a hot path (the acceptance
 * checks every envelope runs) prepares its SQL once and reuses it. Only for
 * statements that finish within the call (`get`, `all`, `run`): an `iterate`
 * keeps its statement busy, so it prepares its own.
 */
import type { Database, Statement } from 'better-sqlite3'

/** Most statements kept per database (dynamic WHERE clauses make a few shapes each); past it the cache restarts. */
export const PREPARED_LIMIT = 256

const byDb = new WeakMap<Database, Map<string, Statement>>()

/** The statement for `sql` on `db`, prepared on first use. */
export function prepared(db: Database, sql: string): Statement {
  let cache = byDb.get(db)
  if (cache === undefined) byDb.set(db, (cache = new Map()))
  let stmt = cache.get(sql)
  if (stmt === undefined) {
    if (cache.size >= PREPARED_LIMIT) cache.clear()
    stmt = db.prepare(sql)
    cache.set(sql, stmt)
  }
  return stmt
}
