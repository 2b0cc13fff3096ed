/**
 * One node per database and per home (decision 0042). A node appends to its
 * audit log from a Merkle frontier it keeps in memory and signs checkpoints
 * of it under the home's identity, so a second node on the same database, or
 * with the same identity on another database (`--db`), would write two logs
 * under one DID. While a store is open it holds an exclusive SQLite lock on
 * `<db>.lock` and, for a node with a home, on `<home>/node.lock`; a second
 * one is refused at once. The operating system drops the locks with the
 * process, so a crash leaves nothing to clean up.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { MeshsigError } from '../core/index.js'
import { createPrivateDbFile } from './db-file.js'

/**
 * Lock files this process holds. POSIX drops every lock a process holds on a
 * file when it closes any descriptor of that file, so a second open here must
 * be refused before anything touches the file.
 */
const held = new Set<string>()

/** `path` with its folder's symbolic links resolved (and its own, when it exists): one spelling per file. */
function canonical(path: string): string {
  if (existsSync(path)) return realpathSync(path)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  return join(realpathSync(dirname(path)), basename(path))
}

function inUse(what: string): MeshsigError {
  return new MeshsigError(
    'ALREADY_EXISTS',
    `another meshsig node is using ${what}: stop it first, or give this one its own home (--home or MESHSIG_HOME)`,
  )
}

/**
 * Take the lock of `path` (`<path>.lock`) with SQLite (`Database`, given by
 * the store's one importer of better-sqlite3); the returned function
 * releases it. Throws `ALREADY_EXISTS` while another store holds it.
 */
export function lockDbFile(path: string, Database: typeof BetterSqlite3): () => void {
  const lockPath = `${canonical(path)}.lock`
  if (held.has(lockPath)) throw inUse(path)
  if (!existsSync(lockPath)) createPrivateDbFile(lockPath) // nobody holds a lock on a file that did not exist
  const db = new Database(lockPath)
  try {
    db.pragma('busy_timeout = 0')
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
  } catch (err) {
    db.close()
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY') !== true) throw err
    throw inUse(path)
  }
  held.add(lockPath)
  return () => {
    db.close() // the open transaction rolls back; it wrote nothing
    held.delete(lockPath)
  }
}

/** Take the locks of every path in order; none is kept when one cannot be taken. */
export function lockAll(paths: readonly string[], Database: typeof BetterSqlite3): () => void {
  const unlocks: (() => void)[] = []
  try {
    for (const p of paths) unlocks.push(lockDbFile(p, Database))
  } catch (err) {
    unlocks.reverse().forEach((u) => u())
    throw err
  }
  return () => unlocks.reverse().forEach((u) => u())
}
