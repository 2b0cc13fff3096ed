/**
 * Smaller tables: node metadata, attributed rejections, peer fault counts.
 * Custodied seeds live in custody-repo.ts.
 */
import type { Database, Statement } from 'better-sqlite3'
import { prepared } from './prepared.js'

/** Peers whose fault counts `peer_faults` keeps, the newest first seen (up to `FAULT_PRUNE_EVERY` more between prunes). */
export const PEER_FAULT_ROWS = 10_000
const FAULT_PRUNE_EVERY = 256

/** The keys starting with `prefix`: from it (inclusive) to it with its last character one higher (exclusive). */
function prefixRange(prefix: string): [string, string] {
  const last = prefix.charCodeAt(prefix.length - 1)
  return [prefix, `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}`]
}

/** Repository of metadata, attributed rejections and peer faults. */
export class MiscRepo {
  private readonly getMeta: Statement<[string], { value: string }>
  private readonly setMeta: Statement
  private readonly fault: Statement
  private readonly pruneFaults: Statement
  private faultWrites = 0
  constructor(private readonly db: Database) {
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?')
    this.setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    )
    this.fault = db.prepare(
      'INSERT INTO peer_faults (peer, forged, accepted) VALUES (@peer, @forged, @accepted) ON CONFLICT (peer) DO UPDATE SET forged = forged + @forged, accepted = accepted + @accepted',
    )
    // rowids grow with each new peer and stay on update: the rows past the newest `PEER_FAULT_ROWS` peers go
    this.pruneFaults = db.prepare('DELETE FROM peer_faults WHERE rowid <= (SELECT MAX(rowid) FROM peer_faults) - ?')
  }

  /** A metadata value, if set. */
  meta(key: string): string | undefined {
    return this.getMeta.get(key)?.value
  }

  /** Set a metadata value. */
  setMetaValue(key: string, value: string): void {
    this.setMeta.run(key, value)
  }

  /** Delete a metadata value (nothing when unset). */
  deleteMeta(key: string): void {
    prepared(this.db, 'DELETE FROM meta WHERE key = ?').run(key)
  }

  /** How many metadata keys start with `prefix` (ASCII; a range of the key index). */
  countMeta(prefix: string): number {
    const row = prepared(this.db, 'SELECT count(*) AS n FROM meta WHERE key >= ? AND key < ?').get(
      ...prefixRange(prefix),
    ) as { n: number }
    return row.n
  }

  /** The metadata keys starting with `prefix` (ASCII) and their values, in key order. */
  metaWithPrefix(prefix: string): { key: string; value: string }[] {
    return prepared(this.db, 'SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key').all(
      ...prefixRange(prefix),
    ) as { key: string; value: string }[]
  }

  /** Remember a rejected envelope that counted against `did`; false when it already did once. */
  rememberAttributed(id: string, did: string, code: string, at: number): boolean {
    return (
      prepared(this.db, 'INSERT OR IGNORE INTO attributed_rejections (id, did, code, at) VALUES (?, ?, ?, ?)').run(
        id,
        did,
        code,
        at,
      ).changes > 0
    )
  }

  /** True when this envelope id was already rejected and counted against its signer. */
  attributedSeen(id: string): boolean {
    return prepared(this.db, 'SELECT 1 FROM attributed_rejections WHERE id = ?').get(id) !== undefined
  }

  /** Count what a peer delivered: forgeries against it, valid envelopes for it. */
  peerFault(peer: string, delta: { forged?: number; accepted?: number }): void {
    this.fault.run({ peer, forged: delta.forged ?? 0, accepted: delta.accepted ?? 0 })
    // peer ids cost nothing to mint: the oldest peers' counts go, checked every `FAULT_PRUNE_EVERY` writes
    if (++this.faultWrites % FAULT_PRUNE_EVERY === 0) this.pruneFaults.run(PEER_FAULT_ROWS)
  }

  /** Fault counts of every peer or client that delivered something. */
  peerFaults(): { peer: string; forged: number; accepted: number }[] {
    return prepared(this.db, 'SELECT peer, forged, accepted FROM peer_faults ORDER BY peer').all() as {
      peer: string
      forged: number
      accepted: number
    }[]
  }
}
