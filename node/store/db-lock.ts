/**
 * One node per database (decision 0042). A node appends to its audit log
 * from a Merkle frontier it keeps in memory, so a second node writing the
 * same database (a second `meshsig start` on the same home, with another
 * port) would interleave two logs into one and break every later proof.
 * While a store is open it holds an exclusive SQLite lock on `<db>.lock`; a
 * second store on the same file is refused at once. The operating system
 * drops the lock with the process, so a crash leaves nothing to clean up.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { MeshsigError } from '../core/index.js'
import { createPrivateDbFile } from './db-file.js'

/**
 * Take the lock of the database at `path` with SQLite (`Database`, given by
 * the store's one importer of better-sqlite3); the returned function releases
 * it. Throws `ALREADY_EXISTS` while another store holds it.
 */
export function lockDbFile(path: string, Database: typeof BetterSqlite3): () => void {
  const lockPath = `${path}.lock`
  createPrivateDbFile(lockPath)
  const db = new Database(lockPath)
  try {
    db.pragma('busy_timeout = 0')
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
  } catch (err) {
    db.close()
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY') !== true) throw err
    throw new MeshsigError(
      'ALREADY_EXISTS',
      `another meshsig node is using ${path}: stop it first, or give this one its own home (--home or MESHSIG_HOME)`,
    )
  }
  return () => db.close() // the open transaction rolls back; it wrote nothing
}
