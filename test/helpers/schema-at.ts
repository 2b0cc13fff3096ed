/**
 * A database file as an older meshsig left it: the first `version`
 * migrations run and `user_version` set, so a test can write rows of that
 * schema and then open it with `openStore` to watch the later migrations.
 */
import Database from 'better-sqlite3'
import { MIGRATIONS, type MigrationContext } from '../../node/store/migrations.js'

/** A custody cipher that seals nothing (no custodied seed in these databases). */
const NO_CUSTODY: MigrationContext = { sealSeed: (): Buffer => Buffer.alloc(0) }

/** Open `path` (WAL) at schema `version`: the caller writes its rows and closes it. */
export function databaseAtSchema(path: string, version: number, ctx: MigrationContext = NO_CUSTODY): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  for (const m of MIGRATIONS.slice(0, version)) {
    if (typeof m === 'string') db.exec(m)
    else m(db, ctx)
  }
  db.pragma(`user_version = ${version}`)
  return db
}
