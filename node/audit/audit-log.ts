/**
 * The audit log service (docs/audit.md): appends one entry per event inside the
 * caller's store transaction, so an entry exists exactly when the state
 * change it records does, and keeps, in the same transaction, the RFC 9162
 * Merkle frontier (the root of any size is at hand without rehashing the
 * log) and the trust evidence the entry proves (node/audit/trust-ledger.ts).
 */
import {
  createAuditEntry,
  leafHashOfEntry,
  MerkleAccumulator,
  type AccumulatorState,
  type AuditEntry,
  type AuditEntryInit,
} from '../core/index.js'
import type { Store } from '../store/index.js'
import { recordEvidence } from './trust-ledger.js'

/** What a caller records (subject, envelopeId and code default to null, data to {}); the log adds index and time. */
export type AuditInput = Pick<AuditEntryInit, 'kind'> & Partial<Omit<AuditEntryInit, 'kind' | 'ts'>>

const FRONTIER_KEY = 'audit.frontier'
/**
 * Whether the trust table holds the evidence of every entry: `all` once it
 * does (each append then records its evidence in its own transaction, so it
 * stays true); absent or a number (a store from before the table, or a
 * migration that rebuilt the table) means it is rebuilt from the entries.
 */
const TRUST_SIZE_KEY = 'audit.trustSize'
const TRUST_ALL = 'all'
const PAGE = 5000
/**
 * The frontier is saved every this many entries, not with each one: a
 * restart appends the few leaf hashes after the saved size.
 */
export const FRONTIER_SAVE_EVERY = 256

/** Appends audit entries and tracks the Merkle root and the trust evidence of the log. */
export class AuditLog {
  private cached: MerkleAccumulator | undefined
  private trustSize: number | undefined

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** Append one entry; call inside the transaction of the change it records. */
  append(input: AuditInput): AuditEntry {
    return this.store.transaction(() => {
      const acc = this.accumulator()
      this.syncTrust(acc.size)
      const entry = createAuditEntry(acc.size, {
        kind: input.kind,
        ts: this.clock(),
        subject: input.subject ?? null,
        envelopeId: input.envelopeId ?? null,
        code: input.code ?? null,
        data: input.data ?? {},
      })
      const leaf = leafHashOfEntry(entry)
      this.store.auditEntries.append(entry.index, JSON.stringify(entry), leaf)
      acc.append(leaf)
      if (acc.size % FRONTIER_SAVE_EVERY === 0) this.store.misc.setMetaValue(FRONTIER_KEY, JSON.stringify(acc.toJSON()))
      recordEvidence(this.store, entry)
      this.trustSize = acc.size
      return entry
    })
  }

  /**
   * The accumulator at the log's current size. The in-memory copy is used
   * only while its size matches the store (a rolled-back transaction makes
   * them differ, and the persisted frontier, rolled back too, is reloaded).
   */
  private accumulator(): MerkleAccumulator {
    const size = this.store.auditEntries.count()
    if (this.cached?.size === size) return this.cached
    const saved = this.store.misc.meta(FRONTIER_KEY)
    let acc = saved ? MerkleAccumulator.restore(JSON.parse(saved) as AccumulatorState) : new MerkleAccumulator()
    // saved with the entry that filled its size, in the same transaction: never ahead of the entries
    if (acc.size > size) acc = new MerkleAccumulator()
    for (let start = acc.size; start < size; start += PAGE) {
      const packed = this.store.auditEntries.leafHashes(start, Math.min(PAGE, size - start))
      for (let o = 0; o < packed.length; o += 32) acc.append(packed.subarray(o, o + 32))
    }
    this.cached = acc
    return acc
  }

  /**
   * Make the trust evidence cover exactly the first `size` entries: a store
   * made before the evidence table existed (or whose table was wiped) is
   * rebuilt from its entries once. Runs inside the caller's transaction.
   */
  private syncTrust(size: number): void {
    if (this.trustSize === size) return
    const saved = this.store.misc.meta(TRUST_SIZE_KEY)
    if (saved === TRUST_ALL || saved === String(size)) {
      if (saved !== TRUST_ALL) this.store.misc.setMetaValue(TRUST_SIZE_KEY, TRUST_ALL)
      this.trustSize = size
      return
    }
    this.store.trust.clear()
    for (let start = 0; start < size; start += PAGE) {
      for (const row of this.store.auditEntries.entries(start, Math.min(PAGE, size - start))) {
        recordEvidence(this.store, JSON.parse(row.entry) as AuditEntry)
      }
    }
    this.store.misc.setMetaValue(TRUST_SIZE_KEY, TRUST_ALL)
    this.trustSize = size
  }

  /** Bring the trust evidence up to the log (a no-op unless the store predates it). */
  ensureTrust(): void {
    this.store.transaction(() => this.syncTrust(this.store.auditEntries.count()))
  }

  /** Number of entries. */
  size(): number {
    return this.store.auditEntries.count()
  }

  /** Size and Merkle root of the whole log now. */
  head(): { size: number; root: Uint8Array } {
    const acc = this.accumulator()
    return { size: acc.size, root: acc.root() }
  }
}
