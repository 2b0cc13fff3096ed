/**
 * The SQLite store: the only module that imports better-sqlite3. WAL
 * journal, numbered migrations, prepared statements, and `transaction()` so
 * that each acknowledged write (state change plus its audit entry) commits
 * as one unit or not at all.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { MeshsigError } from '../core/index.js'
import { CustodyCipher, processCustodyKey } from './custody-cipher.js'
import { lockAll } from './db-lock.js'
import { createPrivateDbFile } from './db-file.js'
import { MIGRATIONS, type MigrationContext } from './migrations.js'
import { AgentsRepo } from './agents-repo.js'
import { KeyEventsRepo } from './key-events-repo.js'
import { MessagesRepo } from './messages-repo.js'
import { MiscRepo } from './misc-repo.js'
import { CustodyRepo } from './custody-repo.js'
import { AuditEntriesRepo } from './audit-entries-repo.js'
import { TrustRepo } from './trust-repo.js'
import { CredentialsRepo } from './credentials-repo.js'
import { Checkpointer } from './checkpointer.js'
import { OutboxRepo } from './outbox-repo.js'
import {
  groupCommitRunner,
  transactionRunner,
  WalFlusher,
  type GroupCommit,
  type TransactionHooks,
} from './transaction.js'

export type { GroupCommit } from './transaction.js'
export type { AgentRow } from './agents-repo.js'
export type { AgentCursor, AgentQuery } from './agent-query.js'
export type { DuplicityRow, KeyEventCursor, RevokedCursor, RevokedRow, StoredKeyEvent } from './key-events-repo.js'
export type { MessagePair, MessageRow, MessageQuery, MessageSource } from './messages-repo.js'
export type { CustodyRow } from './custody-repo.js'
export type { AuditRow, ConnectionCursor, ConnectionRow } from './audit-entries-repo.js'
export type { EvidenceRow, TrustScope } from './trust-repo.js'
export type { DeliveryState, OutboxRow } from './outbox-repo.js'
export { AgentsRepo, KeyEventsRepo, MessagesRepo, MiscRepo, CustodyRepo, AuditEntriesRepo, TrustRepo, CredentialsRepo }

/** Options for opening a store. */
export interface StoreInit {
  /** Database file path, or ':memory:' for tests. */
  readonly path: string
  /**
   * The 32-byte custody key that seals custodied seeds at rest (docs/protocol.md
   * §2); when given, it must open the seeds already stored (else `KEY_MISMATCH`).
   * Without one the store uses a random key of this process: right for
   * ':memory:', and for files only in tests (their custodied seeds do not
   * outlive the process); a file with unsealed seeds then refuses to open.
   */
  readonly custodyKey?: Uint8Array
  /** Where the custody key comes from (e.g. its file), named in errors. */
  readonly custodyKeySource?: string
  /** The node's home: held locked with the database, so one identity runs one node (decision 0042). */
  readonly home?: string
}

/** An open meshsig database with its repositories. */
export interface Store {
  readonly path: string
  readonly agents: AgentsRepo
  readonly keyEvents: KeyEventsRepo
  readonly messages: MessagesRepo
  /** Node metadata, attributed rejections, peer fault counts. */
  readonly misc: MiscRepo
  /** Custodied agent seeds, sealed at rest. */
  readonly custody: CustodyRepo
  /** Audit log storage: entries with leaf hashes, checkpoints, handshake connections (the log itself is `AuditLog`). */
  readonly auditEntries: AuditEntriesRepo
  /** Trust evidence, written by the audit log with each entry. */
  readonly trust: TrustRepo
  /** Hashes of agent credentials, by DID. */
  readonly credentials: CredentialsRepo
  /** The durable outbox of direct messages and the receipts this node issued (docs/protocol.md §10). */
  readonly outbox: OutboxRepo
  /** Run `fn` in one transaction (a nested call is a savepoint: its throw undoes only its own writes). */
  transaction<T>(fn: () => T): T
  /**
   * Run `fn` in one outermost transaction committed without an inline fsync;
   * answer the callers only once `durable` resolves (store/transaction.ts).
   */
  groupCommit<T>(fn: () => T): GroupCommit<T>
  /** The error every write gets once a WAL sync failed (fail-stop, transaction.ts); undefined until then. */
  failure(): Error | undefined
  /** Current schema version. */
  schemaVersion(): number
  /** Close the database (checkpoints the WAL). */
  close(): void
}

/** Run the migrations the database lacks; returns how many ran. */
function migrate(db: Database.Database, ctx: MigrationContext): number {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let v = current; v < MIGRATIONS.length; v++) {
    const step = MIGRATIONS[v]!
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step)
      else step(db, ctx)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
  return Math.max(0, MIGRATIONS.length - current)
}

function migrationContext(cipher: CustodyCipher, keyGiven: boolean): MigrationContext {
  return {
    sealSeed: (did, field, seed) => {
      if (!keyGiven) {
        throw new MeshsigError(
          'INVALID_INPUT',
          'this database holds custodied agent keys in plaintext: open it with its custody key (meshsig start does) to seal them',
        )
      }
      return cipher.seal(did, field, seed)
    },
  }
}

/** WAL pages (4 KiB each) after which a commit checkpoints them into the database (4 MiB). */
export const WAL_CHECKPOINT_PAGES = 1000

/** Bytes the WAL file is truncated to when it is reset after a checkpoint. */
export const WAL_SIZE_LIMIT = 32 * 1024 * 1024

/** Set the connection up and migrate (sealing old custody rows); returns the custody cipher. */
function prepare(db: Database.Database, init: StoreInit, memory: boolean): CustodyCipher {
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  // deleted or replaced content (a custody row, plaintext sealed by migration 6) is zeroed, not left in free space
  db.pragma('secure_delete = ON')
  // savepoint journals in memory: each send of a group commit runs in its own savepoint (services/send-batcher.ts),
  // and past 64 KiB SQLite spilled that journal to a new temporary file per batch (about 3 writes a send;
  // decision 0030). Bounded by the pages one batch changes; the VDBE sorter still spills to disk.
  db.pragma('temp_store = MEMORY')
  // checkpoint every WAL_CHECKPOINT_PAGES pages, SQLite's default made explicit (decision 0027: 4000 gave
  // a longer tail under load); the WAL file shrinks back to WAL_SIZE_LIMIT after a reset
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`)
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`)
  const keyGiven = init.custodyKey !== undefined
  const source = init.custodyKeySource ?? (keyGiven ? 'given to the store' : 'random key of this process')
  const cipher = new CustodyCipher(init.custodyKey ?? processCustodyKey(), source)
  const ran = migrate(db, migrationContext(cipher, keyGiven))
  // frames a migration wrote over old pages must not linger in the WAL file
  if (ran > 0 && !memory) db.pragma('wal_checkpoint(TRUNCATE)')
  return cipher
}

/**
 * What the store's transaction runner tells its repositories: trust evidence
 * and message counts are kept per level and written before COMMIT; every
 * row cache is forgotten on any rollback.
 */
function transactionHooks(r: {
  trust: TrustRepo
  agents: AgentsRepo
  auditEntries: AuditEntriesRepo
  keyEvents: KeyEventsRepo
  credentials: CredentialsRepo
  custody: CustodyRepo
}): TransactionHooks {
  const leveled = [r.trust.levels, r.agents.levels]
  return {
    opened: () => leveled.forEach((l) => l.opened()),
    committing: () => leveled.forEach((l) => l.committing()),
    closed: (nested) => leveled.forEach((l) => l.closed(nested)),
    rolledBack: () => {
      leveled.forEach((l) => l.rolledBack())
      r.agents.forgetCached()
      r.auditEntries.forgetCached()
      r.keyEvents.forgetCached()
      r.credentials.forgetCached()
      r.custody.forgetCached()
    },
  }
}

/**
 * Hold `<home>/node.lock` as a running node does (decision 0042) while `fn`
 * runs: what replaces a home's identity must not run under a live node.
 * Throws `ALREADY_EXISTS` while a node uses the home.
 */
export function whileHomeIdle<T>(home: string, fn: () => T): T {
  const unlock = lockAll([join(home, 'node')], Database)
  try {
    return fn()
  } finally {
    unlock()
  }
}

/**
 * Open (creating if needed) a store. The file is created with mode 0600 (in
 * a 0700 folder when the folder is made here) before SQLite opens it, so it
 * is never visible with another mode; SQLite gives -wal and -shm the mode of
 * the database file. Custodied seeds are sealed with `init.custodyKey`.
 */
export function openStore(init: StoreInit): Store {
  const memory = init.path === ':memory:'
  // the home whatever the database (`--db :memory:` too: found by the second attack review), and a file database
  const locked = [...(init.home === undefined ? [] : [join(init.home, 'node')]), ...(memory ? [] : [init.path])]
  const unlock = lockAll(locked, Database)
  let db: Database.Database | undefined
  let custody: CustodyRepo
  try {
    if (!memory) createPrivateDbFile(init.path)
    db = new Database(init.path)
    custody = new CustodyRepo(db, prepare(db, init, memory))
    if (init.custodyKey !== undefined) custody.checkKey()
  } catch (err) {
    db?.close()
    unlock()
    throw err
  }
  const keyEvents = new KeyEventsRepo(db)
  const credentials = new CredentialsRepo(db)
  const agents = new AgentsRepo(db)
  const trust = new TrustRepo(db)
  const auditEntries = new AuditEntriesRepo(db)
  // after a failed sync the connection turns read-only: a write outside a transaction fails too (decision 0093)
  const flusher = new WalFlusher(memory ? undefined : `${init.path}-wal`, () => db.pragma('query_only = ON'))
  const transaction = transactionRunner(
    db,
    transactionHooks({ trust, agents, auditEntries, keyEvents, credentials, custody }),
    () => flusher.failure(), // fail-stop after a failed WAL sync (transaction.ts)
  )
  const checkpointer = memory ? undefined : new Checkpointer(init.path)
  return {
    path: init.path,
    agents,
    keyEvents,
    messages: new MessagesRepo(db),
    misc: new MiscRepo(db),
    custody,
    auditEntries,
    trust,
    credentials,
    outbox: new OutboxRepo(db),
    transaction,
    groupCommit: groupCommitRunner(db, transaction, flusher, () => checkpointer?.nudge()),
    failure: () => flusher.failure(),
    schemaVersion: () => db.pragma('user_version', { simple: true }) as number,
    close: () => {
      flusher.close()
      checkpointer?.close() // its connection first: the writer's close is the last, and removes the WAL
      db.close()
      unlock() // after the database is closed: nothing else writes it now
    },
  }
}
