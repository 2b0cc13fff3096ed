/**
 * The SQLite store: the only module that imports better-sqlite3. WAL
 * journal, numbered migrations, prepared statements, and `transaction()` so
 * that each acknowledged write (state change plus its audit entry) commits
 * as one unit or not at all.
 */
import Database from 'better-sqlite3'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { MIGRATIONS } from './migrations.js'
import { AgentsRepo } from './agents-repo.js'
import { KeyEventsRepo } from './key-events-repo.js'
import { MessagesRepo } from './messages-repo.js'
import { MiscRepo } from './misc-repo.js'
import { AuditRepo } from './audit-repo.js'
import { TrustRepo } from './trust-repo.js'
import { CredentialsRepo } from './credentials-repo.js'

export type { AgentRow, AgentQuery } from './agents-repo.js'
export type { DuplicityRow } from './key-events-repo.js'
export type { MessageRow, MessageQuery, MessageSource } from './messages-repo.js'
export type { CustodyRow } from './misc-repo.js'
export type { AuditRow, ConnectionRow } from './audit-repo.js'
export type { EvidenceRow, TrustScope } from './trust-repo.js'
export { AgentsRepo, KeyEventsRepo, MessagesRepo, MiscRepo, AuditRepo, TrustRepo, CredentialsRepo }

/** Options for opening a store. */
export interface StoreInit {
  /** Database file path, or ':memory:' for tests. */
  readonly path: string
}

/** An open meshsig database with its repositories. */
export interface Store {
  readonly path: string
  readonly agents: AgentsRepo
  readonly keyEvents: KeyEventsRepo
  readonly messages: MessagesRepo
  readonly misc: MiscRepo
  readonly audit: AuditRepo
  /** Trust evidence, written by the audit log with each entry. */
  readonly trust: TrustRepo
  /** Hashes of agent credentials, by DID. */
  readonly credentials: CredentialsRepo
  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T
  /** Current schema version. */
  schemaVersion(): number
  /** Close the database (checkpoints the WAL). */
  close(): void
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}

/** Open (creating if needed) a store; the file is made 0600 in a 0700 folder. */
export function openStore(init: StoreInit): Store {
  const memory = init.path === ':memory:'
  if (!memory) {
    const dir = dirname(init.path)
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  }
  const db = new Database(init.path)
  if (!memory) chmodSync(init.path, 0o600)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrate(db)
  return {
    path: init.path,
    agents: new AgentsRepo(db),
    keyEvents: new KeyEventsRepo(db),
    messages: new MessagesRepo(db),
    misc: new MiscRepo(db),
    audit: new AuditRepo(db),
    trust: new TrustRepo(db),
    credentials: new CredentialsRepo(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    schemaVersion: () => db.pragma('user_version', { simple: true }) as number,
    close: () => db.close(),
  }
}
