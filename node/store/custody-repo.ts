/**
 * Custodied agent keys: the seeds a node holds for the agents it registered.
 * Sealed at rest (custody-cipher.ts, docs/protocol.md §2): callers see b64
 * seeds, the database holds only ciphertext.
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
export const OPENED_CACHE_SIZE = 4096

/** A custody row as stored: sealed seeds. */
interface SealedCustodyRow {
  did: string
  seed: Buffer
  next_seed: Buffer | null
  created_at: number
}

/** Repository of custodied agent seeds (table `custody`). */
export class CustodyRepo {
  private readonly putRow: Statement
  private readonly getRow: Statement<[string], SealedCustodyRow>
  private readonly dropRow: Statement<[string]>
  private readonly anyRow: Statement<[], SealedCustodyRow>
  /** Opened rows by DID with the sealed values they came from: AES-GCM costs ~10 µs, a send needs the seed. */
  private readonly opened = new Map<string, { sealed: SealedCustodyRow; row: CustodyRow }>()

  constructor(
    db: Database,
    private readonly cipher: CustodyCipher,
  ) {
    this.putRow = db.prepare(
      'INSERT INTO custody (did, seed, next_seed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET seed = excluded.seed, next_seed = excluded.next_seed',
    )
    this.getRow = db.prepare('SELECT did, seed, next_seed, created_at FROM custody WHERE did = ?')
    this.dropRow = db.prepare('DELETE FROM custody WHERE did = ?')
    this.anyRow = db.prepare('SELECT did, seed, next_seed, created_at FROM custody LIMIT 1')
  }

  /** Keep (or replace after rotation) the keys of a custodied agent; both seeds are sealed before they are stored. */
  put(row: CustodyRow): void {
    const seed = this.cipher.seal(row.did, 'seed', row.seed)
    const next = row.nextSeed === null ? null : this.cipher.seal(row.did, 'next_seed', row.nextSeed)
    this.putRow.run(row.did, seed, next, row.createdAt)
  }

  /** The custodied keys of an agent, if this node holds them; throws `KEY_MISMATCH` under the wrong custody key. */
  get(did: string): CustodyRow | undefined {
    const r = this.getRow.get(did)
    return r ? this.openRow(r) : undefined
  }

  /** Destroy the custodied keys of `did` (on its revocation); true when there were any. */
  forget(did: string): boolean {
    this.opened.delete(did)
    return this.dropRow.run(did).changes > 0
  }

  /** Throw `KEY_MISMATCH` unless the custody key opens the stored seeds (checked on one row). */
  checkKey(): void {
    const r = this.anyRow.get()
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
}

function sameSealed(a: SealedCustodyRow, b: SealedCustodyRow): boolean {
  const next =
    a.next_seed === null || b.next_seed === null ? a.next_seed === b.next_seed : a.next_seed.equals(b.next_seed)
  return next && a.seed.equals(b.seed) && a.created_at === b.created_at
}
