/** Signed messages (whole envelopes, so each can be re-verified) and the replay cache. */
import type { Database, Statement } from 'better-sqlite3'
import { prepared } from './prepared.js'
import { SqlWhere } from './sql-where.js'
import type { MsgEnvelope } from '../core/index.js'
import { OWN_AGENT_DIDS } from './agents-repo.js'

/** Where a stored message came from. */
export type MessageSource = 'api' | 'gossip' | 'sync' | 'deliver'

/** A stored message. */
export interface MessageRow {
  readonly seq: number
  readonly id: string
  readonly envelope: MsgEnvelope
  readonly source: MessageSource
  readonly receivedAt: number
}

/** Stored direct messages from one agent to another: how many, and the latest signed time seen (ms). */
export interface MessagePair {
  readonly from: string
  readonly to: string
  readonly count: number
  readonly lastTs: number
}

/** Filter for listing messages. */
export interface MessageQuery {
  /** Messages from or to this DID. */
  readonly did?: string
  /** Only messages with `seq` below this (paging backwards). */
  readonly before?: number
  readonly limit?: number
}

/** Repository of messages and of the `(from, nonce)` replay cache. */
export class MessagesRepo {
  private readonly insert: Statement
  private readonly has: Statement<[string], { one: number }>
  private readonly count: Statement<[], { n: number }>
  private readonly seen: Statement<[string, string], { one: number }>
  private readonly remember: Statement
  private readonly prune: Statement
  private readonly replaySize: Statement<[], { n: number }>
  private readonly markHere: Statement<[string]>
  private readonly hereAt: Statement<[string], { at: number }>

  constructor(private readonly db: Database) {
    this.insert = db.prepare(
      'INSERT INTO messages (id, from_did, to_did, ts, envelope, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    this.has = db.prepare('SELECT 1 AS one FROM messages WHERE id = ?')
    this.count = db.prepare('SELECT COUNT(*) AS n FROM messages')
    this.seen = db.prepare('SELECT 1 AS one FROM replay WHERE from_did = ? AND nonce = ?')
    this.remember = db.prepare('INSERT OR IGNORE INTO replay (from_did, nonce, ts) VALUES (?, ?, ?)')
    this.prune = db.prepare('DELETE FROM replay WHERE ts < ?')
    this.replaySize = db.prepare('SELECT COUNT(*) AS n FROM replay')
    this.markHere = db.prepare('UPDATE messages SET delivered_here = 1 WHERE id = ? AND to_did IS NOT NULL')
    this.hereAt = db.prepare('SELECT received_at AS at FROM messages WHERE id = ? AND delivered_here = 1')
  }

  /** Store an accepted message and remember its nonce. */
  add(id: string, envelope: MsgEnvelope, source: MessageSource, receivedAt: number): void {
    this.insert.run(id, envelope.from, envelope.to, envelope.ts, JSON.stringify(envelope), source, receivedAt)
    this.remember.run(envelope.from, envelope.nonce, envelope.ts)
  }

  /**
   * Mark a stored direct message delivered to an agent of this node
   * (docs/protocol.md §10): it has it once stored, with no receipt and no
   * retry. False when no direct message with this id is stored.
   */
  markDeliveredHere(id: string): boolean {
    return this.markHere.run(id).changes === 1
  }

  /** When a message marked delivered here was stored (ms), or undefined. */
  deliveredHereAt(id: string): number | undefined {
    return this.hereAt.get(id)?.at
  }

  /** True when a message with this id is stored. */
  exists(id: string): boolean {
    return this.has.get(id) !== undefined
  }

  /** True when `(from, nonce)` is in the replay cache. */
  nonceSeen(from: string, nonce: string): boolean {
    return this.seen.get(from, nonce) !== undefined
  }

  /** Forget nonces of messages older than `beforeTs` (they fail the clock check anyway). */
  pruneReplay(beforeTs: number): number {
    return this.prune.run(beforeTs).changes
  }

  /**
   * Delete messages received before `before` that are neither from nor to an
   * agent of this node (retention of relayed traffic, issue 9); at most
   * `max` per call. Returns how many were deleted. "An agent of this node" is
   * `OWN_AGENT_DIDS`, the recipients direct delivery takes (docs/protocol.md
   * §10): a delivered message is never deleted, so it cannot be taken again.
   */
  pruneForeign(before: number, max = 10_000): number {
    const local = OWN_AGENT_DIDS
    return prepared(
      this.db,
      `DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE received_at < ?
           AND from_did NOT IN (${local}) AND (to_did IS NULL OR to_did NOT IN (${local})) LIMIT ?)`,
    ).run(before, max).changes
  }

  /** Number of nonces in the replay cache. */
  replayCount(): number {
    return this.replaySize.get()?.n ?? 0
  }

  /** Number of stored messages. */
  total(): number {
    return this.count.get()?.n ?? 0
  }

  /**
   * The pairs of agents with the most recent traffic, at most `limit`: the
   * stored direct messages from one agent to another, counted as they are
   * stored and deleted (migration 20), newest signed time first.
   */
  pairs(limit: number): MessagePair[] {
    const sql = `SELECT from_did AS "from", to_did AS "to", n AS count, last_ts AS lastTs FROM message_pairs
      ORDER BY last_ts DESC, from_did, to_did LIMIT ?`
    return prepared(this.db, sql).all(limit) as MessagePair[]
  }

  /** Number of pairs of agents with a stored direct message from one to the other. */
  pairCount(): number {
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM message_pairs').get() as { n: number }).n
  }

  /** Stored messages from or to `did` (a message to itself counts once), as counted when stored. */
  totalOf(did: string): number {
    const row = prepared(this.db, 'SELECT n FROM message_dids WHERE did = ?').get(did) as { n: number } | undefined
    return row?.n ?? 0
  }

  /** Bytes of every stored message's envelope (UTF-8 JSON), as counted when stored (migration 20). */
  envelopeBytes(): number {
    return (prepared(this.db, 'SELECT n FROM message_bytes WHERE k = 0').get() as { n: number }).n
  }

  /** One stored message by id (the primary key), or undefined. */
  get(id: string): MessageRow | undefined {
    const r = prepared(this.db, 'SELECT seq, id, envelope, source, received_at FROM messages WHERE id = ?').get(id) as
      { seq: number; id: string; envelope: string; source: MessageSource; received_at: number } | undefined
    if (r === undefined) return undefined
    const envelope = JSON.parse(r.envelope) as MsgEnvelope
    return { seq: r.seq, id: r.id, envelope, source: r.source, receivedAt: r.received_at }
  }

  /**
   * Messages, newest first. Of a DID, the page is taken from `messages_from`
   * and `messages_to` separately (each is in `seq` order, `seq` being the
   * rowid): at most `limit` seqs from each, and `IN` drops the second copy of
   * a message to oneself. A step then reads what it returns, never the DID's
   * whole history sorted before `LIMIT` (attack review 101, F1).
   */
  list(query: MessageQuery = {}): MessageRow[] {
    const limit = query.limit ?? 100
    const before = new SqlWhere().add(query.before !== undefined, 'seq < ?', query.before)
    const cols = 'SELECT seq, id, envelope, source, received_at FROM messages'
    let sql: string
    let params: unknown[]
    if (query.did === undefined) {
      sql = cols + before.sql() + ' ORDER BY seq DESC LIMIT ?'
      params = [...before.params, limit]
    } else {
      const side = (col: string): string =>
        `SELECT seq FROM (SELECT seq FROM messages WHERE ${col} = ?` +
        (query.before !== undefined ? ' AND seq < ?' : '') +
        ' ORDER BY seq DESC LIMIT ?)'
      sql = `${cols} WHERE seq IN (${side('from_did')} UNION ALL ${side('to_did')}) ORDER BY seq DESC LIMIT ?`
      const sideParams = [query.did, ...before.params, limit]
      params = [...sideParams, ...sideParams, limit]
    }
    const rows = prepared(this.db, sql).all(...params) as {
      seq: number
      id: string
      envelope: string
      source: MessageSource
      received_at: number
    }[]
    return rows.map((r) => ({
      seq: r.seq,
      id: r.id,
      envelope: JSON.parse(r.envelope) as MsgEnvelope,
      source: r.source,
      receivedAt: r.received_at,
    }))
  }

  /** Every message in arrival order, in pages (for exports of any size). */
  *iterate(pageSize = 1000): Generator<MessageRow> {
    let after = 0
    const stmt = this.db.prepare(
      'SELECT seq, id, envelope, source, received_at FROM messages WHERE seq > ? ORDER BY seq LIMIT ?',
    )
    for (;;) {
      const rows = stmt.all(after, pageSize) as {
        seq: number
        id: string
        envelope: string
        source: MessageSource
        received_at: number
      }[]
      if (rows.length === 0) return
      for (const r of rows) {
        yield {
          seq: r.seq,
          id: r.id,
          envelope: JSON.parse(r.envelope) as MsgEnvelope,
          source: r.source,
          receivedAt: r.received_at,
        }
      }
      after = rows[rows.length - 1]!.seq
    }
  }
}
