/**
 * Naming exactly which audit entries were altered, removed, reordered or
 * duplicated. Two modes:
 *
 * - exact: the export's list of leaf hashes has the root the checkpoint
 *   signed, so (SHA-256 being collision resistant) it is the node's own list.
 *   Each entry is matched to the signed leaf it hashes to; what matches
 *   nothing is altered or inserted, and signed leaves no entry matches are
 *   missing. An entry whose only change is its `index` field is found by
 *   trying nearby indexes (and the shift seen last), within a budget of
 *   bytes re-hashed: a fixed amount plus `REHASH_FACTOR` times the bytes of
 *   the export's entries (attack review 125, M2), so the search costs at
 *   most a few times the first pass, however heavy the entries.
 * - structural: no authenticated leaf hashes. Only the entries' own `index`
 *   fields speak: gaps are missing entries, repeats duplicates, descents
 *   reorders. Altered content then shows only as a root mismatch, localised
 *   to the span between two signed checkpoints.
 */
import type { AuditEntry } from './audit-entry.js'
import { auditEntryBytes } from './audit-entry.js'
import { entryRange, type ProblemSink } from './audit-problems.js'
import { HASH_LENGTH } from './merkle.js'
import { hashLeaf } from './merkle-hash.js'

/** The signed tree's leaf hashes, packed 32 bytes each. */
export class LeafTable {
  /** Packed hashes: leaf i at bytes [32 i, 32 i + 32). */
  readonly bytes: Uint8Array
  /** Number of leaves. */
  readonly size: number

  constructor(bytes: Uint8Array) {
    this.bytes = bytes
    this.size = Math.floor(bytes.length / HASH_LENGTH)
  }

  /** The hash of leaf `i` (a view, not a copy). */
  at(i: number): Uint8Array {
    return this.bytes.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH)
  }

  /** True when leaf `i` exists and its hash is `hash`. */
  matches(i: number, hash: Uint8Array): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) return false
    const base = i * HASH_LENGTH
    for (let k = 0; k < HASH_LENGTH; k++) if (this.bytes[base + k] !== hash[k]) return false
    return true
  }
}

/** Bytes the search for renumbered entries may re-hash whatever the export's size (8 MiB). */
export const REHASH_BASE = 8 * 1024 * 1024

/** Bytes the search may re-hash per byte of the export's entries (`EntryMatcher.earn`). */
export const REHASH_FACTOR = 2

/** How hard the exact mode looks for an entry whose `index` field was changed. */
export interface MatchOptions {
  /** Try indexes within this distance of the claimed one. Default 16. */
  readonly window?: number
  /**
   * Bytes of canonical entries the search may re-hash before the entries
   * add theirs (`earn`); each try costs the bytes of the entry it re-hashes.
   * Default `REHASH_BASE`.
   */
  readonly budget?: number
}

/** Per-entry facts gathered in one pass over the export. */
export interface EntryFacts {
  /** Number of entries. */
  readonly count: number
  /** The `index` field of each entry, -1 when it has none usable. */
  readonly claimed: Float64Array
  /** 1 for each malformed entry. */
  readonly malformed: Uint8Array
  /** Exact mode: the signed leaf each entry is, -1 when none. */
  readonly origin: Float64Array
}

/** Allocate the facts for `count` entries. */
export function newEntryFacts(count: number): EntryFacts {
  return {
    count,
    claimed: new Float64Array(count).fill(-1),
    malformed: new Uint8Array(count),
    origin: new Float64Array(count).fill(-1),
  }
}

/** Matches entries to signed leaves (exact mode), one entry at a time in export order. */
export class EntryMatcher {
  readonly #leaves: LeafTable
  readonly #facts: EntryFacts
  readonly #window: number
  #budget: number
  #shift = 0
  #lastMiss = -2

  constructor(leaves: LeafTable, facts: EntryFacts, options: MatchOptions = {}) {
    this.#leaves = leaves
    this.#facts = facts
    this.#window = options.window ?? 16
    this.#budget = options.budget ?? REHASH_BASE
  }

  /** Add to the budget for an entry of `bytes` canonical bytes the first pass hashed (`REHASH_FACTOR` each). */
  earn(bytes: number): void {
    this.#budget += REHASH_FACTOR * bytes
  }

  /** Match the well-formed entry at `position`, whose leaf hash is `hash`. */
  match(position: number, entry: AuditEntry, hash: Uint8Array): void {
    const claimed = entry.index
    if (this.#leaves.matches(claimed, hash)) {
      this.#facts.origin[position] = claimed
      return
    }
    if (this.#shift !== 0 && this.#try(position, entry, claimed + this.#shift)) return
    const runGoesOn = this.#lastMiss === position - 1
    this.#lastMiss = position
    if (runGoesOn) return // a run of misses: `resolveRuns` searches it once, not entry by entry
    for (const c of this.#candidates(claimed, position)) {
      if (this.#budget <= 0) return
      if (this.#try(position, entry, c, true)) return
    }
  }

  /**
   * For each run of two or more consecutive unmatched entries (what removing
   * or inserting a block and renumbering the rest leaves), search every
   * index, nearest first, for the first entry of the run; a hit gives the
   * shift, which then costs one hash per further entry. Within the budget.
   */
  resolveRuns(entryAt: (position: number) => AuditEntry | undefined): void {
    const { origin, malformed, count } = this.#facts
    const open = (p: number): boolean => p < count && origin[p] === -1 && malformed[p] === 0
    for (let p = 0; p < count; p++) {
      if (!open(p) || !open(p + 1)) continue
      const first = entryAt(p)
      if (first === undefined || !this.#scan(p, first)) {
        while (open(p + 1)) p++
        continue
      }
      for (let q = p + 1; open(q); q++) {
        const entry = entryAt(q)
        if (entry !== undefined) this.#try(q, entry, entry.index + this.#shift)
        p = q
      }
    }
  }

  #scan(position: number, entry: AuditEntry): boolean {
    const x = entry.index
    for (let d = this.#window + 1; this.#budget > 0 && (x + d < this.#leaves.size || x - d >= 0); d++) {
      for (const c of [x + d, x - d]) {
        if (c < 0 || c >= this.#leaves.size) continue
        if (this.#try(position, entry, c, true)) return true
      }
    }
    return false
  }

  /** Last resort for a few leftovers: try every unmatched leaf for every unmatched entry, within the budget. */
  matchLeftovers(entryAt: (position: number) => AuditEntry | undefined, limit = 4096): void {
    const { origin, count } = this.#facts
    const taken = new Uint8Array(this.#leaves.size)
    const open: number[] = []
    for (let p = 0; p < count; p++) {
      const o = origin[p] as number
      if (o >= 0) taken[o] = 1
      else if (this.#facts.malformed[p] === 0) open.push(p)
    }
    const free: number[] = []
    for (let i = 0; i < taken.length && free.length * open.length <= limit; i++) if (taken[i] === 0) free.push(i)
    if (open.length === 0 || free.length * open.length > limit) return
    for (const p of open) {
      const entry = entryAt(p)
      if (entry === undefined) continue
      const hit = free.find((c) => this.#budget > 0 && taken[c] === 0 && this.#try(p, entry, c, true))
      if (hit !== undefined) taken[hit] = 1
    }
  }

  #candidates(claimed: number, position: number): number[] {
    const out: number[] = []
    for (let d = 1; d <= this.#window; d++) out.push(claimed + d, claimed - d)
    if (position !== claimed) out.push(position)
    return out.filter((c) => c >= 0 && c < this.#leaves.size && c !== claimed + this.#shift)
  }

  /** Whether `entry` is signed leaf `candidate` under that index; `charged`: its bytes come off the budget. */
  #try(position: number, entry: AuditEntry, candidate: number, charged = false): boolean {
    if (candidate < 0 || candidate >= this.#leaves.size) return false
    const bytes = auditEntryBytes({ ...entry, index: candidate })
    if (charged) this.#budget -= bytes.length
    if (!this.#leaves.matches(candidate, hashLeaf(bytes))) return false
    this.#facts.origin[position] = candidate
    this.#shift = candidate - entry.index
    return true
  }
}

/** Report what the exact match says: altered, inserted, duplicated, reordered, renumbered, missing. */
export function diagnoseExact(facts: EntryFacts, signedSize: number, sink: ProblemSink): void {
  const accounted = reportOrder(facts.origin, facts.count, signedSize, sink)
  for (let p = 0; p < facts.count; p++) {
    const o = facts.origin[p] as number
    const x = facts.claimed[p] as number
    if (o >= 0) {
      if (x !== o) renumbered(o, p, x, sink)
    } else if (x >= 0 && x < signedSize && !accounted.has(x)) {
      accounted.add(x)
      sink.add({
        kind: 'altered',
        index: x,
        position: p,
        key: 'altered',
        describe: (a, b) => `${entryRange(a, b)}: content differs from what the checkpoint signed`,
      })
    } else {
      const which = x >= 0 ? ` (index ${x})` : ''
      sink.report('inserted', `the entry at position ${p}${which} is no entry of the signed log`, { position: p })
    }
  }
  reportMissing(accounted, signedSize, sink)
}

/** Report what the entries' own index fields say: gaps, repeats, reorders, indexes beyond the signed size. */
export function diagnoseStructure(facts: EntryFacts, signedSize: number, sink: ProblemSink): void {
  for (let p = 0; p < facts.count; p++) {
    const x = facts.claimed[p] as number
    if (x < signedSize) continue
    sink.add({
      kind: 'size-mismatch',
      index: x,
      position: p,
      key: 'beyond',
      describe: (a, b) => `${entryRange(a, b)}: index beyond the ${signedSize} entries the checkpoint covers`,
    })
  }
  const present = reportOrder(facts.claimed, facts.count, signedSize, sink)
  reportMissing(present, signedSize, sink)
}

/**
 * Report repeats and reorders of the log indexes `indexOf` gives each
 * position (-1 or ≥ size: skipped). Reordered entries are those outside one
 * longest increasing run of first occurrences (O(n log n)): the fewest
 * entries that must move, so swapping entries i and j names just i and j.
 * Returns which indexes occur. Memory follows the entries, never `size`:
 * a signed size is whatever the log's key signed, however few entries the
 * export holds.
 */
function reportOrder(indexOf: Float64Array, count: number, size: number, sink: ProblemSink): Set<number> {
  const seen = new Set<number>()
  const positions = new Float64Array(count)
  const indexes = new Float64Array(count)
  let m = 0
  for (let p = 0; p < count; p++) {
    const i = indexOf[p] as number
    if (i < 0 || i >= size) continue
    if (seen.has(i)) {
      sink.add({
        kind: 'duplicated',
        index: i,
        position: p,
        key: 'duplicated',
        describe: (a, b) => `${entryRange(a, b)}: occurs again at position ${p}`,
      })
      continue
    }
    seen.add(i)
    positions[m] = p
    indexes[m] = i
    m += 1
  }
  const keep = longestIncreasing(ranks(indexes, m), m)
  for (let k = 0; k < m; k++) {
    if (keep[k] === 1) continue
    const p = positions[k] as number
    sink.add({
      kind: 'reordered',
      index: indexes[k] as number,
      position: p,
      key: 'reordered',
      describe: (a, b) => `${entryRange(a, b)}: out of order, found at position ${p}`,
    })
  }
  return seen
}

/** Each of the distinct values[0..m) replaced by its rank among them: the same order, in [0, m). */
function ranks(values: Float64Array, m: number): Float64Array {
  const sorted = values.slice(0, m).sort()
  const out = new Float64Array(m)
  for (let k = 0; k < m; k++) {
    const v = values[k] as number
    let [lo, hi] = [0, m - 1]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((sorted[mid] as number) < v) lo = mid + 1
      else hi = mid
    }
    out[k] = lo
  }
  return out
}

/**
 * Membership (1) of one longest strictly increasing subsequence of the
 * distinct values[0..m) (each in [0, m): ranks); among the longest, one
 * keeping the most entries that stand exactly where sorting would put them,
 * so a swap of the first and last of three names those two, not the middle
 * one. O(m log m) with a Fenwick tree of prefix maxima.
 */
function longestIncreasing(values: Float64Array, m: number): Uint8Array {
  const bestScore = new Float64Array(m + 1)
  const bestAt = new Int32Array(m + 1).fill(-1)
  const prev = new Int32Array(m)
  let top = -1
  let topScore = 0
  for (let k = 0; k < m; k++) {
    const v = values[k] as number
    let score = 0
    let from = -1
    for (let i = v; i > 0; i -= i & -i) {
      if ((bestScore[i] as number) > score) [score, from] = [bestScore[i] as number, bestAt[i] as number]
    }
    score += m + 1 + (v === k ? 1 : 0)
    prev[k] = from
    for (let i = v + 1; i <= m; i += i & -i) {
      if ((bestScore[i] as number) < score) [bestScore[i], bestAt[i]] = [score, k]
    }
    if (score > topScore) [topScore, top] = [score, k]
  }
  const keep = new Uint8Array(m)
  for (let k = top; k >= 0; k = prev[k] as number) keep[k] = 1
  return keep
}

function renumbered(origin: number, position: number, claimed: number, sink: ProblemSink): void {
  const shift = claimed - origin
  sink.add({
    kind: 'renumbered',
    index: origin,
    position,
    key: `shift ${shift}`,
    describe: (a, b) =>
      `${entryRange(a, b)}: content intact but the index field was changed by ${shift > 0 ? '+' : ''}${shift}`,
  })
}

/** Report each gap of `present` in [0, size) as one run: a signed size far past the entries is one problem. */
function reportMissing(present: Set<number>, size: number, sink: ProblemSink): void {
  let next = 0
  const gap = (from: number, to: number): void =>
    sink.add({
      kind: 'missing',
      index: from,
      span: to - from,
      key: 'missing',
      describe: (a, b) => `${entryRange(a, b)}: signed but absent from the export`,
    })
  for (const i of Float64Array.from(present).sort()) {
    if (i > next) gap(next, i)
    next = i + 1
  }
  if (size > next) gap(next, size)
}
