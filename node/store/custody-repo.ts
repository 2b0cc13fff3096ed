/**
 * Custodied agent keys: the seeds a node holds for the agents it registered.
 * Sealed at rest (custody-cipher.ts, docs/protocol.md §2): callers see b64
 * seeds, the database holds only ciphertext.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { Capability } from '../core/index.js'
import type { CustodyCipher } from './custody-cipher.js'
import { RowCache } from './row-cache.js'

/** The name and capabilities this node registered a custodied agent with (decision 0057). */
export interface AgentProfile {
  readonly name: string
  readonly capabilities: readonly Capability[]
}

/** A custodied agent key: the node holds it for an agent it registered. */
export interface CustodyRow {
  readonly did: string
  /** b64 seed of the current key. */
  readonly seed: string
  /** b64 seed of the committed next key, if any. */
  readonly nextSeed: string | null
  readonly createdAt: number
  /**
   * What this node registered the agent as; kept when a later `put` (a
   * rotation) names none. Null only for a row whose registration was gone
   * when migration 17 ran.
   */
  readonly profile: AgentProfile | null
}

/** A row as `put` takes it: the profile only at registration; a rotation keeps the stored one. */
export type CustodyPut = Omit<CustodyRow, 'profile'> & { readonly profile?: AgentProfile | null }

/** Opened custody rows kept, at most (dropped on `put`, `forget` and any rollback). */
export const OPENED_CACHE_SIZE = 4096

/** A custody row as stored: sealed seeds. */
interface SealedCustodyRow {
  did: string
  seed: Buffer
  next_seed: Buffer | null
  created_at: number
  profile: string | null
}

/** Repository of custodied agent seeds (table `custody`). */
export class CustodyRepo {
  private readonly putRow: Statement
  private readonly getRow: Statement<[string], SealedCustodyRow>
  private readonly dropRow: Statement<[string]>
  private readonly anyRow: Statement<[], SealedCustodyRow>
  /**
   * Opened rows by DID: every custodied send needs the seed, and reading and
   * opening the row cost ~30 µs. Only this repository writes the table, so
   * the cache is dropped where a row changes (`put`, `forget`) and, by the
   * store's transaction runner, on any rollback (`forgetCached`).
   */
  private readonly opened = new RowCache<CustodyRow>(OPENED_CACHE_SIZE)

  constructor(
    db: Database,
    private readonly cipher: CustodyCipher,
  ) {
    this.putRow = db.prepare(
      'INSERT INTO custody (did, seed, next_seed, created_at, profile) VALUES (?, ?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET seed = excluded.seed, next_seed = excluded.next_seed, profile = COALESCE(excluded.profile, profile)',
    )
    this.getRow = db.prepare('SELECT did, seed, next_seed, created_at, profile FROM custody WHERE did = ?')
    this.dropRow = db.prepare('DELETE FROM custody WHERE did = ?')
    this.anyRow = db.prepare('SELECT did, seed, next_seed, created_at, profile FROM custody LIMIT 1')
  }

  /** Keep (or replace after rotation) the keys of a custodied agent; both seeds are sealed before they are stored. */
  put(row: CustodyPut): void {
    const seed = this.cipher.seal(row.did, 'seed', row.seed)
    const next = row.nextSeed === null ? null : this.cipher.seal(row.did, 'next_seed', row.nextSeed)
    const profile = row.profile == null ? null : JSON.stringify(row.profile)
    this.putRow.run(row.did, seed, next, row.createdAt, profile)
    this.opened.delete(row.did) // an existing row keeps its created_at: the next get reads what is stored
  }

  /** The custodied keys of an agent, if this node holds them; throws `KEY_MISMATCH` under the wrong custody key. */
  get(did: string): CustodyRow | undefined {
    return this.opened.read(did, () => {
      const r = this.getRow.get(did)
      return r === undefined ? undefined : this.openRow(r)
    })
  }

  /** Destroy the custodied keys of `did` (on its revocation); true when there were any. */
  forget(did: string): boolean {
    this.opened.delete(did)
    return this.dropRow.run(did).changes > 0
  }

  /** Forget every opened row (a rollback may have undone a `put` or a `forget`). */
  forgetCached(): void {
    this.opened.clear()
  }

  /** Throw `KEY_MISMATCH` unless the custody key opens the stored seeds (checked on one row). */
  checkKey(): void {
    const r = this.anyRow.get()
    if (r !== undefined) this.openRow(r)
  }

  /** Open a stored row (AES-GCM, checked: throws `KEY_MISMATCH` under the wrong custody key). */
  private openRow(r: SealedCustodyRow): CustodyRow {
    return {
      did: r.did,
      seed: this.cipher.open(r.did, 'seed', r.seed),
      nextSeed: r.next_seed === null ? null : this.cipher.open(r.did, 'next_seed', r.next_seed),
      createdAt: r.created_at,
      profile: r.profile === null ? null : profileOf(r.profile),
    }
  }
}

/** A stored profile; a row migration 17 could not fill has capabilities null. */
function profileOf(text: string): AgentProfile {
  const p = JSON.parse(text) as { name: string; capabilities: Capability[] | null }
  return { name: p.name, capabilities: p.capabilities ?? [] }
}
