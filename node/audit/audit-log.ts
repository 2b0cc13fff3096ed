/**
 * The audit log service (SPEC §5): appends one entry per event inside the
 * caller's store transaction, so an entry exists exactly when the state
 * change it records does, and keeps the RFC 9162 Merkle frontier in the same
 * transaction, so the root of any size is at hand without rehashing the log.
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

/** What a caller records (subject, envelopeId and code default to null, data to {}); the log adds index and time. */
export type AuditInput = Pick<AuditEntryInit, 'kind'> & Partial<Omit<AuditEntryInit, 'kind' | 'ts'>>

const FRONTIER_KEY = 'audit.frontier'

/** Appends audit entries and tracks the Merkle root of the log. */
export class AuditLog {
  private cached: MerkleAccumulator | undefined

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** Append one entry; call inside the transaction of the change it records. */
  append(input: AuditInput): AuditEntry {
    return this.store.transaction(() => {
      const acc = this.accumulator()
      const entry = createAuditEntry(acc.size, {
        kind: input.kind,
        ts: this.clock(),
        subject: input.subject ?? null,
        envelopeId: input.envelopeId ?? null,
        code: input.code ?? null,
        data: input.data ?? {},
      })
      const leaf = leafHashOfEntry(entry)
      this.store.audit.append(entry.index, JSON.stringify(entry), leaf)
      acc.append(leaf)
      this.store.misc.setMetaValue(FRONTIER_KEY, JSON.stringify(acc.toJSON()))
      return entry
    })
  }

  /**
   * The accumulator at the log's current size. The in-memory copy is used
   * only while its size matches the store (a rolled-back transaction makes
   * them differ, and the persisted frontier, rolled back too, is reloaded).
   */
  private accumulator(): MerkleAccumulator {
    const size = this.store.audit.count()
    if (this.cached?.size === size) return this.cached
    const saved = this.store.misc.meta(FRONTIER_KEY)
    let acc = saved ? MerkleAccumulator.restore(JSON.parse(saved) as AccumulatorState) : new MerkleAccumulator()
    if (acc.size !== size) {
      acc = new MerkleAccumulator()
      for (let i = 0; i < size; i++) acc.append(this.store.audit.leafHash(i))
    }
    this.cached = acc
    return acc
  }

  /** Number of entries. */
  size(): number {
    return this.store.audit.count()
  }

  /** Size and Merkle root of the whole log now. */
  head(): { size: number; root: Uint8Array } {
    const acc = this.accumulator()
    return { size: acc.size, root: acc.root() }
  }
}
