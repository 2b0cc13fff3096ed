/**
 * Signed checkpoints, proofs and the verifiable part of the audit export
 * (docs/audit.md). A checkpoint is a `chk` envelope over (size, root) signed with
 * the node key; the export carries every entry, the node's leaf hashes, the
 * checkpoints and the node's key log, so anyone can check it offline.
 * Inclusion and consistency proofs follow RFC 9162 §2.1.3 and §2.1.4.
 */
import {
  createCheckpoint,
  decodeEnvelope,
  MeshsigError,
  toB64,
  verifyEnvelopeSignature,
  type AuditEntry,
  type ChkEnvelope,
  type KeyEvent,
  type KeyPair,
} from '../core/index.js'
import type { InclusionProofView } from '../core/views.js'
import type { Store } from '../store/index.js'
import type { AuditInput, AuditLog } from './audit-log.js'
import { LeafCache } from './leaf-cache.js'
import { SubtreeRoots } from './merkle-proofs.js'
import { continuityProblem, type AnchorFile } from './checkpoint-notes.js'
import type { NdjsonSource } from './export-stream.js'

/** The part of an audit export that `meshsig audit verify` checks. */
export interface VerifiableLog {
  readonly entries: AuditEntry[]
  /** b64 leaf hash of each entry, as the node computed it when appending. */
  readonly leafHashes: string[]
  /** The checkpoint over exactly these entries. */
  readonly checkpoint: ChkEnvelope
  /** Every earlier checkpoint, oldest first. */
  readonly checkpoints: ChkEnvelope[]
  /** The node's current public key (b64). */
  readonly nodePublicKey: string
  /** The node's key event log (explains a key that differs from the DID's); absent when the store holds none. */
  readonly keyLog?: KeyEvent[]
}

/** An RFC 9162 inclusion proof of one entry in a tree of `size` leaves, with the whole entry. */
export type InclusionProofDoc = InclusionProofView<AuditEntry>

/** An RFC 9162 consistency proof between two tree sizes. */
export interface ConsistencyProofDoc {
  readonly first: number
  readonly second: number
  readonly firstRoot: string
  readonly secondRoot: string
  /** PROOF(first, D[second]), b64. */
  readonly proof: string[]
  /** The signed checkpoints of `first` and `second` entries, when the node signed them. */
  readonly firstCheckpoint: ChkEnvelope | null
  readonly secondCheckpoint: ChkEnvelope | null
}

/** What the audit service needs from the node. */
export interface AuditServiceComponents {
  readonly store: Store
  readonly log: AuditLog
  readonly clock: () => number
  readonly nodeDid: () => string
  readonly nodeKey: () => KeyPair
  readonly keyLog: () => KeyEvent[]
  /** Called after each new checkpoint is committed (the node announces and gossips it). */
  readonly onCheckpoint?: (chk: ChkEnvelope) => void
  /**
   * Least age (ms) of the latest checkpoint before a read (export, proof
   * without a size) signs a new one; default `MIN_READ_CHECKPOINT_INTERVAL_MS`.
   * `checkpoint()` (the operator's, the periodic timer's) always signs.
   */
  readonly minCheckpointIntervalMs?: number
  /** The last signed checkpoint kept outside the database (continuity check, docs/audit.md). */
  readonly anchor?: AnchorFile
  /** Told, once per anchor, when the log is not consistent with it (the node logs and emits an alarm). */
  readonly onAlarm?: (message: string, data: Record<string, unknown>) => void
}

/**
 * Least age of the latest checkpoint before a read signs a new one (ms):
 * reads are unauthenticated, and each new checkpoint is stored, logged and
 * gossiped to every node.
 */
export const MIN_READ_CHECKPOINT_INTERVAL_MS = 10_000

const PAGE = 5000

/** Makes checkpoints and proofs, and the verifiable export. */
export class AuditService {
  private readonly leaves: LeafCache
  private readonly roots: SubtreeRoots
  private alarmed: string | undefined

  constructor(private readonly c: AuditServiceComponents) {
    this.leaves = new LeafCache(c.store)
    this.roots = new SubtreeRoots(this.leaves.upTo(0))
    c.log.ensureTrust()
  }

  /** Record an event that changes no other state (peer joined or left), in its own transaction. */
  record(input: AuditInput): AuditEntry {
    return this.c.log.append(input)
  }

  /** Number of entries in the log. */
  size(): number {
    return this.c.log.size()
  }

  /** The latest signed checkpoint, if any. */
  latest(): ChkEnvelope | undefined {
    const text = this.c.store.auditEntries.latestCheckpoint()
    return text ? (decodeEnvelope(text) as ChkEnvelope) : undefined
  }

  /** True when entries were appended since the latest checkpoint (besides its own entry). */
  stale(): boolean {
    const latest = this.latest()
    return latest === undefined ? this.c.log.size() > 0 : this.c.log.size() > latest.size + 1
  }

  /**
   * Sign a checkpoint of the whole log now, store it and log it; returns the
   * envelope. Refuses (`LOG_INCONSISTENT`, with an alarm) when the log is not
   * consistent with the last checkpoint the node signed (the anchor).
   */
  checkpoint(): ChkEnvelope {
    this.assertContinuity()
    const chk = this.c.store.transaction(() => {
      const { size, root } = this.c.log.head()
      const signed = createCheckpoint(this.c.nodeDid(), size, root, this.c.clock(), this.c.nodeKey())
      this.c.store.auditEntries.putCheckpoint(size, JSON.stringify(signed))
      this.c.log.append({ kind: 'checkpoint', subject: signed.origin, data: { size, root: signed.root } })
      return signed
    })
    this.c.anchor?.write({ size: chk.size, root: chk.root })
    this.c.onCheckpoint?.(chk)
    return chk
  }

  /** Throw `LOG_INCONSISTENT` (after one alarm per anchor) when the log contradicts the anchor. */
  private assertContinuity(): void {
    const anchor = this.c.anchor?.read()
    const size = this.c.log.size()
    const problem = continuityProblem(anchor, size, (n) => this.rootsUpTo(n).root(0, n))
    if (problem === null || anchor === undefined) return
    const data = { reason: problem, earlierSize: anchor.size, earlierRoot: anchor.root, size }
    const key = JSON.stringify(anchor)
    if (this.alarmed !== key) {
      this.alarmed = key
      this.c.log.append({ kind: 'checkpoint.inconsistent', subject: this.c.nodeDid(), data })
      this.c.onAlarm?.(problem, data)
    }
    throw new MeshsigError('LOG_INCONSISTENT', `refusing to sign a checkpoint: ${problem}`, data)
  }

  /**
   * The checkpoint reads are answered from, under the node's current key:
   * the latest when it covers every entry but its own, or when it is younger
   * than `minCheckpointIntervalMs` (entries after it wait for the next one);
   * else a new one. Unauthenticated reads thus sign at most one checkpoint
   * per interval.
   */
  current(): ChkEnvelope {
    const latest = this.latest()
    if (latest === undefined || !this.signedByCurrentKey(latest)) return this.checkpoint()
    if (!this.stale()) return latest
    const interval = this.c.minCheckpointIntervalMs ?? MIN_READ_CHECKPOINT_INTERVAL_MS
    return this.c.clock() - latest.ts < interval ? latest : this.checkpoint()
  }

  /** True when `chk` verifies under the node's current key (false for those signed before a rotation). */
  private signedByCurrentKey(chk: ChkEnvelope): boolean {
    try {
      verifyEnvelopeSignature(chk, this.c.nodeKey().publicKey)
      return true
    } catch {
      return false
    }
  }

  /**
   * Entries [0, size) with the node's leaf hashes, the signed checkpoint of
   * exactly that size and the key log: one tree size throughout, so the
   * export is consistent by construction (issue 11). Without `size`, the
   * size of the checkpoint reads are answered from (`current()`); with one,
   * a past size the node signed a checkpoint for (else `NOT_FOUND`).
   */
  verifiable(size?: number): VerifiableLog {
    const checkpoint = size === undefined ? this.current() : this.signedAt(size)
    const entries: AuditEntry[] = []
    const leafHashes: string[] = []
    for (let start = 0; start < checkpoint.size; start += PAGE) {
      for (const row of this.c.store.auditEntries.entries(start, Math.min(PAGE, checkpoint.size - start))) {
        // stored entries were shape-checked when appended; the verifier re-hashes every one
        entries.push(JSON.parse(row.entry) as AuditEntry)
        leafHashes.push(toB64(row.leafHash))
      }
    }
    const keyLog = this.c.keyLog()
    return {
      entries,
      leafHashes,
      checkpoint,
      // a verifier checks them under nodePublicKey: those signed before the node rotated its key stay out
      checkpoints: this.checkpointsBelow(checkpoint.size).filter((c) => this.signedByCurrentKey(c)),
      nodePublicKey: toB64(this.c.nodeKey().publicKey),
      // an empty list would claim a log that proves nothing; without one the key must name the origin itself
      ...(keyLog.length > 0 ? { keyLog } : {}),
    }
  }

  /**
   * What the NDJSON export streams (`export-stream.ts`): the checkpoint of
   * one size (as `verifiable`), its older checkpoints and the store to read
   * entries and messages from in pages.
   */
  ndjsonSource(size?: number): NdjsonSource {
    const checkpoint = size === undefined ? this.current() : this.signedAt(size)
    const keyLog = this.c.keyLog()
    return {
      store: this.c.store,
      checkpoint,
      checkpoints: this.checkpointsBelow(checkpoint.size).filter((c) => this.signedByCurrentKey(c)),
      nodePublicKey: toB64(this.c.nodeKey().publicKey),
      ...(keyLog.length > 0 ? { keyLog } : {}),
    }
  }

  /** The stored checkpoint of `size` entries under the current key, or `NOT_FOUND` naming the nearest. */
  signedAt(size: number): ChkEnvelope {
    this.checkSize(size, 'size')
    const chk = this.checkpointOf(size)
    if (chk !== null && this.signedByCurrentKey(chk)) return chk
    const below = this.checkpointsBelow(size).filter((c) => this.signedByCurrentKey(c))
    const nearest = below[below.length - 1]?.size
    const hint = nearest === undefined ? '' : ` (the nearest below is ${nearest})`
    throw new MeshsigError('NOT_FOUND', `the node signed no checkpoint of ${size} entries${hint}`, { size })
  }

  /** Every stored checkpoint of fewer than `size` entries, oldest first. */
  checkpointsBelow(size: number): ChkEnvelope[] {
    return this.c.store.auditEntries
      .checkpoints()
      .map((t) => decodeEnvelope(t) as ChkEnvelope)
      .filter((c) => c.size < size)
  }

  /** The stored checkpoint of exactly `size` entries, if the node signed one. */
  checkpointOf(size: number): ChkEnvelope | null {
    const text = this.c.store.auditEntries.checkpointAt(size)
    return text === undefined ? null : (decodeEnvelope(text) as ChkEnvelope)
  }

  /** Subtree roots over at least the first `n` committed leaves. */
  private rootsUpTo(n: number): SubtreeRoots {
    this.roots.update(this.leaves.upTo(n))
    return this.roots
  }

  private checkSize(size: number, what: string): void {
    const n = this.c.log.size()
    if (!Number.isSafeInteger(size) || size < 0 || size > n) {
      throw new MeshsigError('INVALID_INPUT', `${what} must be an integer from 0 to ${n}`, { field: what })
    }
  }

  /** Inclusion proof of entry `index` in the tree of `size` entries (default: the current checkpoint's). */
  inclusion(index: number, size?: number): InclusionProofDoc {
    const n = size ?? this.current().size
    this.checkSize(n, 'size')
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
      throw new MeshsigError('NOT_FOUND', `no entry ${index} in a tree of ${n} entries`, { index, size: n })
    }
    const roots = this.rootsUpTo(n)
    const row = this.c.store.auditEntries.entries(index, 1)[0]
    if (row === undefined) throw new MeshsigError('NOT_FOUND', `no entry ${index}`, { index })
    return {
      index,
      size: n,
      entry: JSON.parse(row.entry) as AuditEntry,
      leafHash: toB64(roots.root(index, index + 1)),
      root: toB64(roots.root(0, n)),
      proof: roots.inclusion(index, n).map(toB64),
      checkpoint: this.checkpointOf(n),
    }
  }

  /** Consistency proof that the tree of `first` entries is a prefix of the tree of `second` (default: current). */
  consistency(first: number, second?: number): ConsistencyProofDoc {
    const n = second ?? this.current().size
    this.checkSize(n, 'second')
    this.checkSize(first, 'first')
    if (first > n) throw new MeshsigError('INVALID_INPUT', 'first must not exceed second', { first, second: n })
    const roots = this.rootsUpTo(n)
    return {
      first,
      second: n,
      firstRoot: toB64(roots.root(0, first)),
      secondRoot: toB64(roots.root(0, n)),
      proof: roots.consistency(first, n).map(toB64),
      firstCheckpoint: this.checkpointOf(first),
      secondCheckpoint: this.checkpointOf(n),
    }
  }
}
