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

/**
 * A pair's key is `"<a> <b>"` (a < b; docs/protocol.md §7). The pairs a DID is first in, after a key and
 * before `"<did>!"`: a range of the primary key (decision 0081).
 */
export const PAIRS_FIRST_SQL = `SELECT key, successes, failures FROM trust_evidence
  WHERE scope = 'pair' AND key > ? AND key < ? ORDER BY key LIMIT ?`

/**
 * The pairs a DID is second in, after a key: through migration 22's index `trust_pair_second` (decision 0081),
 * named, since without statistics SQLite would take the primary key's range, every pair after the key.
 */
export const PAIRS_SECOND_SQL = `SELECT key, successes, failures FROM trust_evidence INDEXED BY trust_pair_second
  WHERE scope = 'pair' AND substr(key, instr(key, ' ') + 1) = ? AND key > ? ORDER BY key LIMIT ?`

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
  private readonly after: Statement<[TrustScope, string, number], { key: string; successes: number; failures: number }>
  private readonly pairsFirst: Statement<[string, string, number], { key: string; successes: number; failures: number }>
  private readonly pairsSecond: Statement<
    [string, string, number],
    { key: string; successes: number; failures: number }
  >
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
    this.after = db.prepare(
      'SELECT key, successes, failures FROM trust_evidence WHERE scope = ? AND key > ? ORDER BY key LIMIT ?',
    )
    this.pairsFirst = db.prepare(PAIRS_FIRST_SQL)
    this.pairsSecond = db.prepare(PAIRS_SECOND_SQL)
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

  /** At most `limit` subjects of `scope` with a key after `after` (`''`: from the first), by key. */
  page(scope: TrustScope, after: string, limit: number): EvidenceRow[] {
    const open = this.pending(scope, (key) => key > after)
    const stored = open.tableCounts ? this.after.all(scope, after, limit) : []
    return merged(scope, stored, open.rows, limit)
  }

  /**
   * At most `limit` connections (`pair` rows) of `did`, by the other DID, those after `after` (`''`: from the
   * first): that DID's own rows, read through two indexes, never the other pairs.
   */
  pairsOf(did: string, after: string, limit: number): EvidenceRow[] {
    const other = (key: string): string | undefined => otherOf(key, did)
    const open = this.pending('pair', (key) => (other(key) ?? '') > after)
    const stored = open.tableCounts
      ? [
          ...this.pairsFirst.all(`${did} ${after}`, `${did}!`, limit),
          ...this.pairsSecond.all(did, after === '' ? '' : `${after} ${did}`, limit),
        ]
      : []
    const rows = merged('pair', stored, open.rows, Infinity)
    return rows.sort((a, b) => compare(other(a.key)!, other(b.key)!)).slice(0, limit)
  }

  /** The values the open transaction levels hold for `scope` whose key passes `keep`, and whether the table counts. */
  private pending(scope: TrustScope, keep: (key: string) => boolean): { tableCounts: boolean; rows: EvidenceRow[] } {
    const levels = this.levels.all
    const base = levels.findLastIndex((l) => l.cleared)
    const rows: EvidenceRow[] = []
    for (const level of levels.slice(Math.max(base, 0))) {
      for (const v of level.values.values()) if (v.scope === scope && keep(v.key)) rows.push({ ...v })
    }
    return { tableCounts: base < 0, rows }
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function byKey(a: EvidenceRow, b: EvidenceRow): number {
  return compare(a.key, b.key)
}

/** The other DID of a pair key `"<a> <b>"` that `did` is part of; undefined when it is not. */
function otherOf(key: string, did: string): string | undefined {
  if (key.startsWith(`${did} `)) return key.slice(did.length + 1)
  if (key.endsWith(` ${did}`)) return key.slice(0, key.length - did.length - 1)
  return undefined
}

/** Stored rows with the open levels' values over them (later levels win), the first `limit` by key. */
function merged(
  scope: TrustScope,
  stored: readonly { key: string; successes: number; failures: number }[],
  open: readonly EvidenceRow[],
  limit: number,
): EvidenceRow[] {
  const rows = new Map<string, EvidenceRow>(stored.map((r) => [r.key, { scope, ...r }]))
  for (const r of open) rows.set(r.key, r)
  return [...rows.values()].sort(byKey).slice(0, limit)
}
