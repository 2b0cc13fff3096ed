/** Key event logs, derived key states, and recorded duplicity. */
import type { Database, Statement } from 'better-sqlite3'
import { prepared } from './prepared.js'
import { RowCache } from './row-cache.js'
import type { KeyEvent, KeyState } from '../core/index.js'

/** A recorded duplicity: two different events at one seq of one DID. */
export interface DuplicityRow {
  readonly did: string
  readonly seq: number
  readonly existingId: string | null
  readonly conflictingId: string
  readonly envelope: KeyEvent
  readonly detectedAt: number
}

/** Where a page of key events ends (`eventsAfter`): a DID's own events come by seq, its revocation last. */
export interface KeyEventCursor {
  readonly did: string
  /** True for a revocation (stored beside the DID's own event of the seq it names). */
  readonly rev: boolean
  readonly seq: number
}

/** A stored key event with its place in the export order. */
export interface StoredKeyEvent extends KeyEventCursor {
  readonly event: KeyEvent
}

/** Where a page of the revocation list ends: the place of its last row (`RevokedRow`). */
export interface RevokedCursor {
  readonly place: number
}

/**
 * A revoked DID's key state and its place in the revocation list: the
 * order this node learned the revocations in (1 the first), never its
 * signer's time, which anyone may date far ahead (migration 19).
 */
export interface RevokedRow {
  readonly state: KeyState
  readonly place: number
}

/** The revocation list's columns, newest place first, read on the index `key_states_revoked_order`. */
const REVOKED_ROWS = 'SELECT state, revoked_order AS place FROM key_states WHERE revoked = 1'

/** Key states kept in memory (frozen, by DID; a miss reads SQLite). */
export const KEY_STATE_CACHE_SIZE = 4096

/**
 * A stored key state as a frozen object: the cache hands the same one to
 * every reader (a send reads its DIDs' states several times), so none of
 * them can change what the next one sees.
 */
function frozenState(text: string): KeyState {
  const state = JSON.parse(text) as KeyState
  Object.freeze(state.priorKeys)
  if (state.revoked !== null) Object.freeze(state.revoked)
  return Object.freeze(state)
}

/**
 * Repository of key events and key states. A send reads its DIDs' states
 * several times (authority, pre-signing, acceptance), so the states read
 * last are kept in memory: written through by `append`, and all forgotten
 * when any transaction or savepoint rolls back (`forgetCached`, called by
 * the store's transaction runner), so the cache never holds a state the
 * database does not.
 */
export class KeyEventsRepo {
  private readonly cached = new RowCache<KeyState | null>(KEY_STATE_CACHE_SIZE)
  private readonly insertEvent: Statement
  private readonly idAt: Statement<[string, number], { id: string }>
  private readonly logOf: Statement<[string], { envelope: string }>
  private readonly putState: Statement
  private readonly getState: Statement<[string], { state: string }>
  private readonly insertDup: Statement
  private readonly dids: Statement<[], { did: string }>

  constructor(private readonly db: Database) {
    this.insertEvent = db.prepare(
      'INSERT INTO key_events (did, seq, id, type, envelope, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
    // the DID's own events by seq, then its revocation: one by its controller may name any seq (§6)
    this.idAt = db.prepare("SELECT id FROM key_events WHERE did = ? AND seq = ? ORDER BY type = 'rev' LIMIT 1")
    this.logOf = db.prepare("SELECT envelope FROM key_events WHERE did = ? ORDER BY type = 'rev', seq")
    // a DID revoked here takes the next place of the revocation list and keeps it (migration 19)
    this.putState = db.prepare(
      `INSERT INTO key_states (did, state, revoked, revoked_order) VALUES (@did, @state, @revoked,
         CASE WHEN @revoked = 1 THEN (SELECT COALESCE(MAX(revoked_order), 0) + 1 FROM key_states WHERE revoked = 1) END)
       ON CONFLICT (did) DO UPDATE SET state = excluded.state, revoked = excluded.revoked,
         revoked_order = CASE WHEN excluded.revoked = 1 THEN COALESCE(revoked_order, excluded.revoked_order) END`,
    )
    this.getState = db.prepare('SELECT state FROM key_states WHERE did = ?')
    // one conflict per DID and seq is the evidence; more (a holder of the key can sign any number) add nothing
    this.insertDup = db.prepare(
      `INSERT OR IGNORE INTO duplicity (did, seq, existing_id, conflicting_id, envelope, detected_at)
       SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM duplicity WHERE did = ? AND seq = ?)`,
    )
    this.dids = db.prepare('SELECT did FROM key_states ORDER BY did')
  }

  /** Store an accepted event and the DID's resulting state. */
  append(event: KeyEvent, id: string, state: KeyState, receivedAt: number): void {
    this.insertEvent.run(event.did, event.seq, id, event.type, JSON.stringify(event), receivedAt)
    const text = JSON.stringify(state)
    this.putState.run({ did: state.did, state: text, revoked: state.revoked ? 1 : 0 })
    this.cached.set(state.did, frozenState(text))
  }

  /** Forget every cached state (a rollback may have undone a write). */
  forgetCached(): void {
    this.cached.clear()
  }

  /** Id of the DID's event at `seq` (its own before its controller's revocation), if stored. */
  eventIdAt(did: string, seq: number): string | undefined {
    return this.idAt.get(did, seq)?.id
  }

  /** The stored key event with this envelope id, if any. */
  byId(id: string): KeyEvent | undefined {
    const row = prepared(this.db, 'SELECT envelope FROM key_events WHERE id = ?').get(id) as
      { envelope: string } | undefined
    return row === undefined ? undefined : (JSON.parse(row.envelope) as KeyEvent)
  }

  /** The DID's own stored events before `seq` (inception and rotations, no revocation), with their ids. */
  ownEventsBefore(did: string, seq: number): { event: KeyEvent; id: string }[] {
    const rows = prepared(
      this.db,
      "SELECT id, envelope FROM key_events WHERE did = ? AND seq < ? AND type != 'rev' ORDER BY seq",
    ).all(did, seq) as { id: string; envelope: string }[]
    return rows.map((r) => ({ event: JSON.parse(r.envelope) as KeyEvent, id: r.id }))
  }

  /** The DID's whole log: its own events by seq from the inception, then its revocation. */
  log(did: string): KeyEvent[] {
    return this.logOf.all(did).map((r) => JSON.parse(r.envelope) as KeyEvent)
  }

  /** Current key state of a DID, if any event is known. */
  state(did: string): KeyState | undefined {
    const state = this.cached.read(did, () => {
      const row = this.getState.get(did)
      return row === undefined ? null : frozenState(row.state)
    })
    return state ?? undefined
  }

  /** Every DID with a key event log. */
  allDids(): string[] {
    return this.dids.all().map((r) => r.did)
  }

  /** How many DIDs other than `except` have a key log but no agent row (peer nodes, controllers): a scan. */
  countLogsOfNonAgents(except: string): number {
    const sql =
      'SELECT COUNT(*) AS n FROM key_states s WHERE s.did != ? AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.did = s.did)'
    return (prepared(this.db, sql).get(except) as { n: number }).n
  }

  /**
   * Revoked DIDs, the revocation learned last first: all of them, or the
   * newest `limit`, one page of the index `key_states_revoked_order`.
   */
  revoked(limit?: number): RevokedRow[] {
    return this.revokedRows(undefined, limit ?? -1)
  }

  /** The next `limit` rows of the revocation list after `after` (the place of the last one read). */
  revokedAfter(after: RevokedCursor | undefined, limit: number): RevokedRow[] {
    return this.revokedRows(after, limit)
  }

  private revokedRows(after: RevokedCursor | undefined, limit: number): RevokedRow[] {
    const sql = `${REVOKED_ROWS}${after === undefined ? '' : ' AND revoked_order < ?'} ORDER BY revoked_order DESC LIMIT ?`
    const params = after === undefined ? [limit] : [after.place, limit]
    const rows = prepared(this.db, sql).all(...params) as { state: string; place: number }[]
    return rows.map((r) => ({ state: JSON.parse(r.state) as KeyState, place: r.place }))
  }

  /** Number of revoked DIDs (only those with an agent row, when `agentsOnly`): a count over the revoked ones. */
  revokedCount(agentsOnly = false): number {
    const agents = agentsOnly ? ' AND EXISTS (SELECT 1 FROM agents a WHERE a.did = key_states.did)' : ''
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM key_states WHERE revoked = 1' + agents).get() as { n: number })
      .n
  }

  /**
   * The extent of the key events stored now: how many, and the rowid of
   * the newest (a later event has a larger one), which `eventsAfter` reads up
   * to, so that an export read in pages holds exactly the events it counted.
   */
  extent(): { readonly count: number; readonly last: number } {
    const row = prepared(this.db, 'SELECT COUNT(*) AS n, COALESCE(MAX(rowid), 0) AS last FROM key_events').get() as {
      n: number
      last: number
    }
    return { count: row.n, last: row.last }
  }

  /**
   * The next `limit` key events after `after` in export order (by DID, each
   * log as `log` orders it), of those stored up to rowid `last` (`extent`):
   * one page of every key log, for an export that never holds them all.
   */
  eventsAfter(after: KeyEventCursor | undefined, limit: number, last: number): StoredKeyEvent[] {
    // a range of the primary key (did, …) from `after` on; `+rowid` keeps SQLite from reading by rowid instead
    const sql = `SELECT did, seq, type = 'rev' AS rev, envelope FROM key_events WHERE +rowid <= ?
      AND did >= ? AND (did > ? OR (type = 'rev') > ? OR ((type = 'rev') = ? AND seq > ?))
      ORDER BY did, type = 'rev', seq LIMIT ?`
    const { did, rev, seq } = after ?? { did: '', rev: false, seq: -1 }
    const r = rev ? 1 : 0
    const rows = prepared(this.db, sql).all(last, did, did, r, r, seq, limit) as {
      did: string
      seq: number
      rev: number
      envelope: string
    }[]
    return rows.map((r) => ({ did: r.did, seq: r.seq, rev: r.rev === 1, event: JSON.parse(r.envelope) as KeyEvent }))
  }

  /** Record a duplicity: the first conflict at the DID's seq, once. Returns true when new. */
  recordDuplicity(row: DuplicityRow): boolean {
    const res = this.insertDup.run(
      row.did,
      row.seq,
      row.existingId,
      row.conflictingId,
      JSON.stringify(row.envelope),
      row.detectedAt,
      row.did,
      row.seq,
    )
    return res.changes > 0
  }

  /**
   * Up to `limit` recorded duplicities, newest first; with `after` (the conflicting event id of the last one
   * read), those recorded before it (docs/api.md `GET /duplicity`).
   */
  duplicityPage(limit: number, after?: string): DuplicityRow[] {
    const rows = (
      after === undefined
        ? prepared(this.db, 'SELECT * FROM duplicity ORDER BY id DESC LIMIT ?').all(limit)
        : prepared(
            this.db,
            'SELECT * FROM duplicity WHERE id < (SELECT id FROM duplicity WHERE conflicting_id = ?) ORDER BY id DESC LIMIT ?',
          ).all(after, limit)
    ) as DuplicitySqlRow[]
    return rows.map(duplicityRow)
  }

  /** How many duplicities are recorded. */
  duplicityCount(): number {
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM duplicity').get() as { n: number }).n
  }

  /** All recorded duplicities (or those of one DID), newest first. */
  duplicities(did?: string): DuplicityRow[] {
    const rows = (
      did === undefined
        ? prepared(this.db, 'SELECT * FROM duplicity ORDER BY id DESC').all()
        : prepared(this.db, 'SELECT * FROM duplicity WHERE did = ? ORDER BY id DESC').all(did)
    ) as DuplicitySqlRow[]
    return rows.map(duplicityRow)
  }

  /** The recorded duplicity whose conflicting event has this id, if any. */
  duplicityOf(conflictingId: string): DuplicityRow | undefined {
    const row = prepared(this.db, 'SELECT * FROM duplicity WHERE conflicting_id = ?').get(conflictingId) as
      DuplicitySqlRow | undefined
    return row ? duplicityRow(row) : undefined
  }
}

interface DuplicitySqlRow {
  did: string
  seq: number
  existing_id: string | null
  conflicting_id: string
  envelope: string
  detected_at: number
}

function duplicityRow(r: DuplicitySqlRow): DuplicityRow {
  return {
    did: r.did,
    seq: r.seq,
    existingId: r.existing_id,
    conflictingId: r.conflicting_id,
    envelope: JSON.parse(r.envelope) as KeyEvent,
    detectedAt: r.detected_at,
  }
}
