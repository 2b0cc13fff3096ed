/**
 * Trust evidence: per DID, per delivering peer and per pair of DIDs, the
 * successes and failures the audit log's entries prove. Written only by the
 * audit log, in the transaction of the entry it summarises, so it always
 * equals what anyone recomputes from the log.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { TrustScope } from '../core/trust.js'

export type { TrustScope }

/** Successes and failures counted for one subject. */
export interface EvidenceRow {
  readonly scope: TrustScope
  readonly key: string
  readonly successes: number
  readonly failures: number
}

/** Repository of trust evidence. */
export class TrustRepo {
  private readonly bump: Statement
  private readonly one: Statement<[TrustScope, string], { successes: number; failures: number }>
  private readonly all: Statement<[TrustScope], { key: string; successes: number; failures: number }>
  private readonly wipe: Statement

  constructor(db: Database) {
    this.bump = db.prepare(
      `INSERT INTO trust_evidence (scope, key, successes, failures) VALUES (@scope, @key, @s, @f)
       ON CONFLICT (scope, key) DO UPDATE SET successes = successes + @s, failures = failures + @f`,
    )
    this.one = db.prepare('SELECT successes, failures FROM trust_evidence WHERE scope = ? AND key = ?')
    this.all = db.prepare('SELECT key, successes, failures FROM trust_evidence WHERE scope = ? ORDER BY key')
    this.wipe = db.prepare('DELETE FROM trust_evidence')
  }

  /** Add `successes` and `failures` to a subject's evidence. */
  add(scope: TrustScope, key: string, successes: number, failures: number): void {
    this.bump.run({ scope, key, s: successes, f: failures })
  }

  /** A subject's evidence (zero when nothing was recorded). */
  get(scope: TrustScope, key: string): { successes: number; failures: number } {
    return this.one.get(scope, key) ?? { successes: 0, failures: 0 }
  }

  /** Every subject of a scope with its evidence, by key. */
  list(scope: TrustScope): EvidenceRow[] {
    return this.all.all(scope).map((r) => ({ scope, ...r }))
  }

  /** Forget all evidence (before a rebuild from the audit log). */
  clear(): void {
    this.wipe.run()
  }
}
