/**
 * One transaction runner per connection, built once. better-sqlite3's
 * `db.transaction(fn)` builds four wrapper functions on every call (about
 * 10 µs each time, measured on the project's 2-core machine), and the node
 * opens several nested transactions per registration or send. Same
 * semantics: the outermost call is BEGIN … COMMIT, a nested call is a
 * savepoint, and a throw rolls back exactly the call that threw.
 */
import type { Database } from 'better-sqlite3'

/** Runs `fn` in a transaction (a savepoint when one is open already). */
export type TransactionRunner = <T>(fn: () => T) => T

/** The transaction runner of `db`. */
export function transactionRunner(db: Database): TransactionRunner {
  const begin = db.prepare('BEGIN')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  const savepoint = db.prepare('SAVEPOINT nested')
  const release = db.prepare('RELEASE nested')
  const rollbackTo = db.prepare('ROLLBACK TO nested')
  return <T>(fn: () => T): T => {
    const nested = db.inTransaction
    if (nested) savepoint.run()
    else begin.run()
    try {
      const result = fn()
      if (result instanceof Promise) throw new TypeError('a transaction function cannot return a promise')
      if (nested) release.run()
      else commit.run()
      return result
    } catch (err) {
      // SQLite may have rolled back on its own (a failed COMMIT, SQLITE_FULL); undo only what is still open
      if (db.inTransaction) {
        if (nested) {
          rollbackTo.run()
          release.run()
        } else rollback.run()
      }
      throw err
    }
  }
}
