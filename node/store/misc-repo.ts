/**
 * Smaller tables: node metadata, custodied agent keys, peer fault counts.
 * Custodied seeds are sealed at rest (custody-cipher.ts, docs/protocol.md §2):
 * callers see b64 seeds, the database holds only ciphertext.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { CustodyCipher } from './custody-cipher.js'

/** A custodied agent key: the node holds it for an agent it registered. */
export interface CustodyRow {
  readonly did: string
  /** b64 seed of the current key. */
  readonly seed: string
  /** b64 seed of the committed next key, if any. */
  readonly nextSeed: string | null
  readonly createdAt: number
}

/** Opened custody rows kept, at most (each is checked against the stored ciphertext before use). */
const OPENED_CACHE_SIZE = 4096

/** A custody row as stored: sealed seeds. */
interface SealedCustodyRow {
  did: string
  seed: Buffer
  next_seed: Buffer | null
  created_at: number
}

/** Repository of metadata, custody and peer faults. */
export class MiscRepo {
  private readonly getMeta: Statement<[string], { value: string }>
  private readonly setMeta: Statement
  private readonly putCustody: Statement
  private readonly getCustody: Statement<[string], SealedCustodyRow>
  private readonly dropCustody: Statement<[string]>
  private readonly fault: Statement
  /** Opened rows by DID with the sealed values they came from: AES-GCM costs ~10 µs, a send needs the seed. */
  private readonly opened = new Map<string, { sealed: SealedCustodyRow; row: CustodyRow }>()

  constructor(
    private readonly db: Database,
    private readonly cipher: CustodyCipher,
  ) {
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?')
    this.setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    )
    this.putCustody = db.prepare(
      'INSERT INTO custody (did, seed, next_seed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET seed = excluded.seed, next_seed = excluded.next_seed',
    )
    this.getCustody = db.prepare('SELECT did, seed, next_seed, created_at FROM custody WHERE did = ?')
    this.dropCustody = db.prepare('DELETE FROM custody WHERE did = ?')
    this.fault = db.prepare(
      'INSERT INTO peer_faults (peer, forged, accepted) VALUES (@peer, @forged, @accepted) ON CONFLICT (peer) DO UPDATE SET forged = forged + @forged, accepted = accepted + @accepted',
    )
  }

  /** A metadata value, if set. */
  meta(key: string): string | undefined {
    return this.getMeta.get(key)?.value
  }

  /** Set a metadata value. */
  setMetaValue(key: string, value: string): void {
    this.setMeta.run(key, value)
  }

  /** Keep (or replace after rotation) the keys of a custodied agent; both seeds are sealed before they are stored. */
  custody(row: CustodyRow): void {
    const seed = this.cipher.seal(row.did, 'seed', row.seed)
    const next = row.nextSeed === null ? null : this.cipher.seal(row.did, 'next_seed', row.nextSeed)
    this.putCustody.run(row.did, seed, next, row.createdAt)
  }

  /** The custodied keys of an agent, if this node holds them; throws `KEY_MISMATCH` under the wrong custody key. */
  custodyOf(did: string): CustodyRow | undefined {
    const r = this.getCustody.get(did)
    return r ? this.openRow(r) : undefined
  }

  /** Destroy the custodied keys of `did` (on its revocation); true when there were any. */
  forgetCustody(did: string): boolean {
    this.opened.delete(did)
    return this.dropCustody.run(did).changes > 0
  }

  /** Throw `KEY_MISMATCH` unless the custody key opens the stored seeds (checked on one row). */
  checkCustodyKey(): void {
    const r = this.db.prepare('SELECT did, seed, next_seed, created_at FROM custody LIMIT 1').get() as
      SealedCustodyRow | undefined
    if (r !== undefined) this.openRow(r)
  }

  /** Open a stored row, or reuse the row opened from exactly these sealed bytes (so a rollback or rotation is never missed). */
  private openRow(r: SealedCustodyRow): CustodyRow {
    const hit = this.opened.get(r.did)
    if (hit !== undefined && sameSealed(hit.sealed, r)) return hit.row
    const row: CustodyRow = {
      did: r.did,
      seed: this.cipher.open(r.did, 'seed', r.seed),
      nextSeed: r.next_seed === null ? null : this.cipher.open(r.did, 'next_seed', r.next_seed),
      createdAt: r.created_at,
    }
    this.opened.delete(r.did)
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value!)
    this.opened.set(r.did, { sealed: r, row })
    return row
  }

  /** Remember a rejected envelope that counted against `did`; false when it already did once. */
  rememberAttributed(id: string, did: string, code: string, at: number): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO attributed_rejections (id, did, code, at) VALUES (?, ?, ?, ?)')
        .run(id, did, code, at).changes > 0
    )
  }

  /** True when this envelope id was already rejected and counted against its signer. */
  attributedSeen(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM attributed_rejections WHERE id = ?').get(id) !== undefined
  }

  /** Count what a peer delivered: forgeries against it, valid envelopes for it. */
  peerFault(peer: string, delta: { forged?: number; accepted?: number }): void {
    this.fault.run({ peer, forged: delta.forged ?? 0, accepted: delta.accepted ?? 0 })
  }

  /** Fault counts of every peer or client that delivered something. */
  peerFaults(): { peer: string; forged: number; accepted: number }[] {
    return this.db.prepare('SELECT peer, forged, accepted FROM peer_faults ORDER BY peer').all() as {
      peer: string
      forged: number
      accepted: number
    }[]
  }
}

function sameSealed(a: SealedCustodyRow, b: SealedCustodyRow): boolean {
  const next =
    a.next_seed === null || b.next_seed === null ? a.next_seed === b.next_seed : a.next_seed.equals(b.next_seed)
  return next && a.seed.equals(b.seed) && a.created_at === b.created_at
}
