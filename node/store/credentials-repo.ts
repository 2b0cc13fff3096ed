/**
 * Agent credentials (docs/protocol.md §8): bearer secrets issued once at
 * registration that let a caller act as one custodied agent. Only the
 * SHA-256 of each credential is stored, so a copy of the database grants
 * nothing.
 */
import type { Database, Statement } from 'better-sqlite3'

/** Repository of credential hashes. */
export class CredentialsRepo {
  private readonly put: Statement
  private readonly find: Statement<[string], { did: string }>
  private readonly dropDid: Statement

  constructor(db: Database) {
    this.put = db.prepare('INSERT INTO agent_credentials (hash, did, created_at) VALUES (?, ?, ?)')
    this.find = db.prepare('SELECT did FROM agent_credentials WHERE hash = ?')
    this.dropDid = db.prepare('DELETE FROM agent_credentials WHERE did = ?')
  }

  /** Keep the hash (hex SHA-256) of a new credential for `did`. */
  add(hash: string, did: string, createdAt: number): void {
    this.put.run(hash, did, createdAt)
  }

  /** The DID a credential hash was issued for, if any. */
  didOf(hash: string): string | undefined {
    return this.find.get(hash)?.did
  }

  /** Forget every credential of `did` (revocation). */
  forget(did: string): void {
    this.dropDid.run(did)
  }
}
