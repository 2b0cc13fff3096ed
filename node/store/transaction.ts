/**
 * One transaction runner per connection, built once. better-sqlite3's
 * `db.transaction(fn)` builds four wrapper functions on every call (about
 * 10 µs each time, measured on the project's 2-core machine), and the node
 * opens several nested transactions per registration or send. Same
 * semantics: the outermost call is BEGIN … COMMIT, a nested call is a
 * savepoint, and a throw rolls back exactly the call that threw.
 */
import type { Database } from 'better-sqlite3'
import { closeSync, fdatasync, openSync } from 'node:fs'
import { MeshsigError } from '../core/errors.js'

/** Runs `fn` in a transaction (a savepoint when one is open already). */
export type TransactionRunner = <T>(fn: () => T) => T

/**
 * What a repository that keeps writes in memory until COMMIT (trust-repo.ts)
 * hears from the runner. Each call is about the innermost open level.
 */
export interface TransactionHooks {
  /** A transaction or savepoint began. */
  opened?(): void
  /** The outermost transaction is about to COMMIT: write what is kept (a throw rolls it back). */
  committing?(): void
  /** A savepoint was released (`nested`), or the outermost transaction committed. */
  closed?(nested: boolean): void
  /** A transaction or savepoint was rolled back. */
  rolledBack?(): void
}

/**
 * The transaction runner of `db`, telling `hooks` as levels open, close and
 * roll back. `refusal`, asked before each outermost BEGIN, stops every write
 * once it names an error (a failed WAL sync: `WalFlusher.failure`).
 */
export function transactionRunner(
  db: Database,
  hooks: TransactionHooks = {},
  refusal: () => Error | undefined = () => undefined,
): TransactionRunner {
  const begin = db.prepare('BEGIN')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  const savepoint = db.prepare('SAVEPOINT nested')
  const release = db.prepare('RELEASE nested')
  const rollbackTo = db.prepare('ROLLBACK TO nested')
  return <T>(fn: () => T): T => {
    const nested = db.inTransaction
    if (nested) savepoint.run()
    else {
      const refused = refusal()
      if (refused !== undefined) throw refused
      begin.run()
    }
    hooks.opened?.()
    try {
      const result = fn()
      if (result instanceof Promise) throw new TypeError('a transaction function cannot return a promise')
      if (nested) release.run()
      else {
        hooks.committing?.()
        commit.run()
      }
      hooks.closed?.(nested)
      return result
    } catch (err) {
      // SQLite may have rolled back on its own (a failed COMMIT, SQLITE_FULL); undo only what is still open
      try {
        if (db.inTransaction) {
          if (nested) {
            rollbackTo.run()
            release.run()
          } else rollback.run()
        }
      } finally {
        hooks.rolledBack?.()
      }
      throw err
    }
  }
}

/** What `groupCommit` gives back: the result now, and when it is on disk. */
export interface GroupCommit<T> {
  readonly result: T
  /** Resolves once the transaction is durable (its WAL frames synced); rejects on an I/O error. */
  readonly durable: Promise<void>
}

/**
 * Syncs the WAL file off the event loop (libuv's thread pool), coalescing:
 * a flush asked for while one runs is covered by the next one, which starts
 * when it ends. The descriptor is opened on first use and closed with the
 * store (SQLite keeps the -wal file while the connection is open).
 */
export class WalFlusher {
  private fd: number | undefined
  private failed: Error | undefined
  private inflight: Promise<void> | undefined
  private next: Promise<void> | undefined
  private closed = false

  /**
   * `walPath` undefined: an in-memory store, nothing to sync. `failed`, called once when a sync fails, stops
   * what the transaction runner's refusal does not see (the store makes its connection read-only).
   */
  constructor(
    private readonly walPath: string | undefined,
    private readonly onFailure: () => void = () => {},
  ) {}

  /**
   * Once a sync has failed, the error every later write gets (fail-stop): a
   * failed batch's frames stay in the WAL, visible and built upon, and Linux
   * reports a writeback error once, so no later sync can prove that what came
   * after them is on disk (docs/protocol.md §10; attack review H2 F2).
   */
  failure(): Error | undefined {
    return this.failed
  }

  /** Resolves once everything committed before this call is on disk; rejects for good once a sync failed. */
  flush(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed)
    if (this.walPath === undefined || this.closed) return Promise.resolve()
    if (this.inflight === undefined) {
      const run = this.sync(this.walPath)
      this.inflight = run
      const done = (): void => {
        this.inflight = undefined
        if (this.closed && this.next === undefined) this.closeFd()
      }
      run.then(done, done)
      return run
    }
    // the sync in flight may have started before this caller's commit: the one after it covers it
    this.next ??= this.inflight
      .catch(() => undefined)
      .then(() => {
        this.next = undefined
        return this.flush()
      })
    return this.next
  }

  /** Stop syncing (the store is closing: SQLite's close checkpoints and syncs). */
  close(): void {
    this.closed = true
    if (this.inflight === undefined) this.closeFd()
  }

  private sync(walPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.fd ??= openSync(walPath, 'r')
      } catch (err) {
        // no WAL file yet: nothing was ever written through this connection, nothing to sync
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve()
        else reject(err as Error)
        return
      }
      fdatasync(this.fd, (err) => {
        if (err === null) return resolve()
        if (this.failed === undefined) {
          this.failed = walSyncFailed(err)
          this.onFailure()
        }
        reject(err)
      })
    })
  }

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/**
 * Group commit (docs/protocol.md §10 sends, registrations): `fn` runs in one
 * transaction committed without the inline fsync of synchronous=FULL, and
 * `durable` resolves when the WAL is synced on the thread pool. The event
 * loop goes on with the next batch meanwhile; a caller is answered only once
 * `durable` resolves, so an acknowledged write survives a power loss as with
 * FULL. Every other transaction keeps synchronous=FULL. `committed` runs
 * after each COMMIT (the store nudges its checkpointer, checkpointer.ts).
 */
export function groupCommitRunner(
  db: Database,
  run: TransactionRunner,
  flusher: WalFlusher,
  committed: () => void = () => {},
): <T>(fn: () => T) => GroupCommit<T> {
  const relaxed = db.prepare('PRAGMA synchronous = NORMAL')
  const full = db.prepare('PRAGMA synchronous = FULL')
  return <T>(fn: () => T): GroupCommit<T> => {
    if (db.inTransaction) throw new TypeError('a group commit cannot be nested in a transaction')
    relaxed.run()
    let result: T
    try {
      result = run(fn)
    } finally {
      full.run()
    }
    committed()
    return { result, durable: flusher.flush() }
  }
}

/** The error every write gets after a failed WAL sync: the node must restart, from what is on disk. */
function walSyncFailed(cause: Error): MeshsigError {
  const err = new MeshsigError(
    'INTERNAL',
    `the database could not sync its log to disk (${cause.message}); nothing more is written: ` +
      'check the disk and restart the node (it recovers what is on disk)',
  )
  err.cause = cause
  return err
}
