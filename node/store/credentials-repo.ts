/**
 * Agent credentials (docs/protocol.md §8): bearer secrets issued once at
 * registration that let a caller act as one custodied agent. Only the
 * SHA-256 of each credential is stored, so a copy of the database grants
 * nothing.
 */
import type { Database, Statement } from 'better-sqlite3'
import { RowCache } from './row-cache.js'

/** Credential hashes whose DID is kept in memory (by hash; never the credential itself). */
export const CREDENTIAL_CACHE_SIZE = 4096

/**
 * Repository of credential hashes. The DIDs of the hashes looked up last are
 * kept in memory (every custodied send presents its credential): a `forget`
 * drops its DID's, and a rollback (`forgetCached`, called by the store's
 * transaction runner) drops them all.
 */
export class CredentialsRepo {
  private readonly cached = new RowCache<string>(CREDENTIAL_CACHE_SIZE)
  private readonly put: Statement
  private readonly find: Statement<[string], { did: string }>
  private readonly dropDid: Statement
  private readonly byPrefix: Statement<[string, string], { hash: string }>

  constructor(db: Database) {
    this.put = db.prepare('INSERT INTO agent_credentials (hash, did, created_at) VALUES (?, ?, ?)')
    this.find = db.prepare('SELECT did FROM agent_credentials WHERE hash = ?')
    this.dropDid = db.prepare('DELETE FROM agent_credentials WHERE did = ?')
    this.byPrefix = db.prepare('SELECT hash FROM agent_credentials WHERE hash >= ? AND hash < ? LIMIT 2')
  }

  /** Keep the hash (hex SHA-256) of a new credential for `did`. */
  add(hash: string, did: string, createdAt: number): void {
    this.put.run(hash, did, createdAt)
  }

  /** The DID a credential hash was issued for, if any. */
  didOf(hash: string): string | undefined {
    return this.cached.read(hash, () => this.find.get(hash)?.did)
  }

  /**
   * The one credential hash that starts with `prefix` (lower-case hex), if
   * exactly one does (the credential id of a token proof, api/token-proof.ts).
   */
  hashStartingWith(prefix: string): string | undefined {
    const rows = this.byPrefix.all(prefix, prefix + 'g')
    return rows.length === 1 ? rows[0]?.hash : undefined
  }

  /** Forget every credential of `did` (revocation). */
  forget(did: string): void {
    this.dropDid.run(did)
    for (const [hash, of] of this.cached.entries()) if (of === did) this.cached.delete(hash)
  }

  /** Forget every cached lookup (a rollback may have undone a write). */
  forgetCached(): void {
    this.cached.clear()
  }
}
