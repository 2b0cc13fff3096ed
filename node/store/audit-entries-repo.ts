/** Audit entries (with their Merkle leaf hashes), checkpoints and handshake connections. */
import type { Database, Statement } from 'better-sqlite3'
import { prepared } from './prepared.js'

/** A stored audit row: the entry's JSON text and its leaf hash. */
export interface AuditRow {
  readonly index: number
  readonly entry: string
  readonly leafHash: Uint8Array
}

/** A stored handshake connection between two agents. */
export interface ConnectionRow {
  readonly id: string
  readonly aDid: string
  readonly bDid: string
  readonly transcript: unknown
  readonly establishedAt: number
}

/** Where a page of connections ends: the time and id of its last row. */
export interface ConnectionCursor {
  readonly at: number
  readonly id: string
}

/** Storage of the audit log (`AuditLog` in node/audit writes it): entries, checkpoints and connections. */
export class AuditEntriesRepo {
  private readonly insert: Statement
  private readonly size: Statement<[], { n: number }>
  private readonly leafAt: Statement<[number], { leaf_hash: Buffer }>
  private readonly range: Statement<[number, number], { idx: number; entry: string; leaf_hash: Buffer }>
  private readonly leafRange: Statement<[number, number], { leaf_hash: Buffer }>
  private readonly putChk: Statement
  private readonly latestChk: Statement<[], { envelope: string }>
  private readonly chkAt: Statement<[number], { envelope: string }>
  private readonly addConn: Statement
  /** The number of entries, once read: `append` keeps it, a rollback forgets it (`forgetCached`). */
  private known: number | undefined

  constructor(private readonly db: Database) {
    this.insert = db.prepare('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (?, ?, ?)')
    this.size = db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_entries')
    this.leafAt = db.prepare('SELECT leaf_hash FROM audit_entries WHERE idx = ?')
    this.range = db.prepare('SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?')
    this.leafRange = db.prepare('SELECT leaf_hash FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?')
    this.putChk = db.prepare('INSERT OR REPLACE INTO checkpoints (size, envelope) VALUES (?, ?)')
    this.latestChk = db.prepare('SELECT envelope FROM checkpoints ORDER BY size DESC LIMIT 1')
    this.chkAt = db.prepare('SELECT envelope FROM checkpoints WHERE size = ?')
    this.addConn = db.prepare(
      'INSERT OR IGNORE INTO connections (id, a_did, b_did, transcript, established_at) VALUES (?, ?, ?, ?, ?)',
    )
  }

  /** Append one entry at `index` (must be the current size). */
  append(index: number, entry: string, leafHash: Uint8Array): void {
    this.insert.run(index, entry, Buffer.from(leafHash))
    this.known = index + 1
  }

  /** Number of entries (entries are dense from 0, so max index + 1: O(log n), read once). */
  count(): number {
    return (this.known ??= this.size.get()?.n ?? 0)
  }

  /** Forget the kept count (a rollback may have undone an `append`). */
  forgetCached(): void {
    this.known = undefined
  }

  /** Leaf hash of entry `index`. */
  leafHash(index: number): Uint8Array {
    const row = this.leafAt.get(index)
    if (!row) throw new RangeError(`no audit entry ${index}`)
    return new Uint8Array(row.leaf_hash)
  }

  /** Leaf hashes of entries [start, start + limit), packed 32 bytes each (fewer when the log is shorter). */
  leafHashes(start: number, limit: number): Uint8Array {
    const rows = this.leafRange.all(start, limit)
    const out = new Uint8Array(rows.length * 32)
    rows.forEach((r, i) => out.set(r.leaf_hash, i * 32))
    return out
  }

  /** Entries from `start`, at most `limit`. */
  entries(start: number, limit: number): AuditRow[] {
    return this.range
      .all(start, limit)
      .map((r) => ({ index: r.idx, entry: r.entry, leafHash: new Uint8Array(r.leaf_hash) }))
  }

  /** Store a signed checkpoint envelope (JSON text) for `size` entries. */
  putCheckpoint(size: number, envelope: string): void {
    this.putChk.run(size, envelope)
  }

  /** The latest checkpoint envelope's JSON text, if any. */
  latestCheckpoint(): string | undefined {
    return this.latestChk.get()?.envelope
  }

  /** The checkpoint envelope's JSON text of exactly `size` entries, if one was signed. */
  checkpointAt(size: number): string | undefined {
    return this.chkAt.get(size)?.envelope
  }

  /** Every checkpoint envelope's JSON text, oldest first. */
  checkpoints(): string[] {
    return (prepared(this.db, 'SELECT envelope FROM checkpoints ORDER BY size').all() as { envelope: string }[]).map(
      (r) => r.envelope,
    )
  }

  /**
   * Keep a checkpoint another node signed, and of that node's at most `keep`,
   * the newest received (by size they could be pushed out for good by a few
   * with huge sizes; found by the second attack review); false when this id
   * is already kept.
   */
  addRemoteCheckpoint(
    id: string,
    chk: { origin: string; size: number; root: string },
    envelope: string,
    at: number,
    keep = Number.MAX_SAFE_INTEGER,
  ): boolean {
    const added =
      prepared(
        this.db,
        'INSERT OR IGNORE INTO remote_checkpoints (id, origin, size, root, envelope, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(id, chk.origin, chk.size, chk.root, envelope, at).changes > 0
    if (added) {
      prepared(
        this.db,
        'DELETE FROM remote_checkpoints WHERE origin = ? AND id NOT IN ' +
          '(SELECT id FROM remote_checkpoints WHERE origin = ? ORDER BY received_at DESC, size DESC LIMIT ?)',
      ).run(chk.origin, chk.origin, keep)
    }
    return added
  }

  /**
   * The id and JSON text of a kept checkpoint of `origin` at `size` whose
   * root is not `root` (a split view, docs/audit.md "Split views"), the first
   * received. Roots are canonical base64 (docs/protocol.md §1): equal texts, equal bytes.
   */
  conflictingRemoteCheckpoint(
    origin: string,
    size: number,
    root: string,
  ): { readonly id: string; readonly envelope: string } | undefined {
    // a root already kept at this size is no new evidence: each split view is recorded once per root
    if (
      prepared(this.db, 'SELECT 1 FROM remote_checkpoints WHERE origin = ? AND size = ? AND root = ?').get(
        origin,
        size,
        root,
      )
    ) {
      return undefined
    }
    const row = prepared(
      this.db,
      'SELECT id, envelope FROM remote_checkpoints WHERE origin = ? AND size = ? AND root != ? ORDER BY received_at, id LIMIT 1',
    ).get(origin, size, root) as { id: string; envelope: string } | undefined
    return row === undefined ? undefined : { id: row.id, envelope: row.envelope }
  }

  /**
   * Drop every kept checkpoint of `origin`: it rotated, and what its old key
   * signed is no evidence against it any more (decision 0073). Returns how many.
   */
  forgetRemoteCheckpoints(origin: string): number {
    return prepared(this.db, 'DELETE FROM remote_checkpoints WHERE origin = ?').run(origin).changes
  }

  /** True when a checkpoint with this envelope id is kept. */
  hasRemoteCheckpoint(id: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM remote_checkpoints WHERE id = ?').get(id) !== undefined
  }

  /** Checkpoints other nodes signed (of one origin, or all), newest first. */
  remoteCheckpoints(origin?: string): string[] {
    const rows = (
      origin === undefined
        ? prepared(this.db, 'SELECT envelope FROM remote_checkpoints ORDER BY received_at DESC').all()
        : prepared(this.db, 'SELECT envelope FROM remote_checkpoints WHERE origin = ? ORDER BY size DESC').all(origin)
    ) as { envelope: string }[]
    return rows.map((r) => r.envelope)
  }

  /** Store a handshake connection (idempotent on id). Returns true when new. */
  addConnection(row: ConnectionRow): boolean {
    return this.addConn.run(row.id, row.aDid, row.bDid, JSON.stringify(row.transcript), row.establishedAt).changes > 0
  }

  /** Number of stored connections. */
  connectionCount(): number {
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM connections').get() as { n: number }).n
  }

  /** The newest connection from `aDid` to `bDid` established at `since` or later, if any. */
  latestConnection(aDid: string, bDid: string, since: number): ConnectionRow | undefined {
    const sql =
      'SELECT * FROM connections WHERE a_did = ? AND b_did = ? AND established_at >= ? ORDER BY established_at DESC LIMIT 1'
    const row = prepared(this.db, sql).get(aDid, bDid, since) as StoredConnection | undefined
    return row === undefined ? undefined : connectionRow(row)
  }

  /**
   * All connections (or the newest `limit`), newest first (ties by id); with
   * `after` (the time and id of the last one read), the next page after it.
   */
  connections(limit?: number, after?: ConnectionCursor): ConnectionRow[] {
    const where = after === undefined ? '' : 'WHERE established_at < ? OR (established_at = ? AND id > ?) '
    const sql = `SELECT * FROM connections ${where}ORDER BY established_at DESC, id LIMIT ?`
    const args = after === undefined ? [limit ?? -1] : [after.at, after.at, after.id, limit ?? -1]
    return (prepared(this.db, sql).all(...args) as StoredConnection[]).map(connectionRow)
  }
}

/** A `connections` row as SQLite gives it. */
interface StoredConnection {
  id: string
  a_did: string
  b_did: string
  transcript: string
  established_at: number
}

function connectionRow(r: StoredConnection): ConnectionRow {
  return {
    id: r.id,
    aDid: r.a_did,
    bDid: r.b_did,
    transcript: JSON.parse(r.transcript) as unknown,
    establishedAt: r.established_at,
  }
}
