/**
 * Trust evidence: per DID, per delivering peer and per pair of DIDs, the
 * successes and failures the audit log's entries prove. Written only by the
 * audit log, in the transaction of the entry it summarises, so it always
 * equals what anyone recomputes from the log.
 */
import type { Database, Statement } from 'better-sqlite3'
import type { TrustScope } from '../core/trust.js'
import { SavepointLevels } from './savepoint-levels.js'

export type { TrustScope }

/** Successes and failures counted for one subject. */
export interface EvidenceRow {
  readonly scope: TrustScope
  readonly key: string
  readonly successes: number
  readonly failures: number
}

/** Evidence values of one open transaction level, by `scope\0key`. */
interface Level {
  readonly values: Map<string, { scope: TrustScope; key: string; successes: number; failures: number }>
  /** `clear()` ran at this level: the levels below and the table do not count. */
  cleared: boolean
}

const ZERO: { readonly successes: number; readonly failures: number } = Object.freeze({ successes: 0, failures: 0 })

/**
 * Repository of trust evidence. Inside a transaction the new values are
 * kept in memory, one level per open transaction or savepoint, and written
 * once per subject just before the outermost COMMIT (`committing`): a group
 * of sends between the same agents updates each row once, not once per send
 * (issue 13). A level rolled back is dropped with its values. Each value is
 * the stored one plus each delta in turn, the same additions as before and as
 * a replay of the log (core `collectTrustEvidence`), so the numbers are
 * bit-for-bit those of writing every delta at once.
 */
export class TrustRepo {
  private readonly bump: Statement
  private readonly set: Statement
  private readonly one: Statement<[TrustScope, string], { successes: number; failures: number }>
  private readonly all: Statement<[TrustScope], { key: string; successes: number; failures: number }>
  private readonly wipe: Statement
  /** The values kept per open transaction level (the store's transaction hooks drive it). */
  readonly levels: SavepointLevels<Level>

  constructor(db: Database) {
    this.bump = db.prepare(
      `INSERT INTO trust_evidence (scope, key, successes, failures) VALUES (@scope, @key, @s, @f)
       ON CONFLICT (scope, key) DO UPDATE SET successes = successes + @s, failures = failures + @f`,
    )
    this.set = db.prepare(
      `INSERT INTO trust_evidence (scope, key, successes, failures) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, key) DO UPDATE SET successes = excluded.successes, failures = excluded.failures`,
    )
    this.one = db.prepare('SELECT successes, failures FROM trust_evidence WHERE scope = ? AND key = ?')
    this.all = db.prepare('SELECT key, successes, failures FROM trust_evidence WHERE scope = ? ORDER BY key')
    this.wipe = db.prepare('DELETE FROM trust_evidence')
    this.levels = new SavepointLevels<Level>({
      fresh: () => ({ values: new Map(), cleared: false }),
      fold: (below, top) => {
        if (top.cleared) {
          below.values.clear()
          below.cleared = true
        }
        for (const [id, v] of top.values) below.values.set(id, v)
      },
      write: (level) => {
        for (const v of level.values.values()) this.set.run(v.scope, v.key, v.successes, v.failures)
      },
    })
  }

  /** Add `successes` and `failures` to a subject's evidence. */
  add(scope: TrustScope, key: string, successes: number, failures: number): void {
    const top = this.levels.top
    if (top === undefined) {
      this.bump.run({ scope, key, s: successes, f: failures })
      return
    }
    const old = this.get(scope, key)
    const value = { scope, key, successes: old.successes + successes, failures: old.failures + failures }
    top.values.set(scope + '\0' + key, value)
  }

  /** A subject's evidence (zero when nothing was recorded), including what this transaction added. */
  get(scope: TrustScope, key: string): { successes: number; failures: number } {
    const id = scope + '\0' + key
    const levels = this.levels.all
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!
      const value = level.values.get(id)
      if (value !== undefined) return { successes: value.successes, failures: value.failures }
      if (level.cleared) return ZERO
    }
    return this.one.get(scope, key) ?? ZERO
  }

  /** Every subject of a scope with its evidence, by key. */
  list(scope: TrustScope): EvidenceRow[] {
    const rows = new Map<string, EvidenceRow>()
    const levels = this.levels.all
    const base = levels.findLastIndex((l) => l.cleared)
    if (base < 0) for (const r of this.all.all(scope)) rows.set(r.key, { scope, ...r })
    for (const level of levels.slice(Math.max(base, 0))) {
      for (const v of level.values.values()) if (v.scope === scope) rows.set(v.key, { ...v })
    }
    return [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Forget all evidence (before a rebuild from the audit log). */
  clear(): void {
    this.wipe.run()
    const top = this.levels.top
    if (top === undefined) return
    top.values.clear()
    top.cleared = true
  }
}
