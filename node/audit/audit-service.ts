/**
 * Signed checkpoints, proofs and the verifiable part of the audit export
 * (SPEC §5). A checkpoint is a `chk` envelope over (size, root) signed with
 * the node key; the export carries every entry, the node's leaf hashes, the
 * checkpoints and the node's key log, so anyone can check it offline.
 */
import {
  consistencyProof,
  createCheckpoint,
  decodeEnvelope,
  inclusionProof,
  MeshsigError,
  merkleRoot,
  parseAuditEntry,
  toB64,
  type AuditEntry,
  type ChkEnvelope,
  type KeyEvent,
  type KeyPair,
} from '../core/index.js'
import type { Store } from '../store/index.js'
import type { AuditLog } from './audit-log.js'

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
  /** The node's key event log (explains a key that differs from the DID's). */
  readonly keyLog: KeyEvent[]
}

/** An RFC 9162 inclusion proof of one entry in a signed tree. */
export interface InclusionProofDoc {
  readonly index: number
  readonly size: number
  readonly leafHash: string
  readonly root: string
  readonly proof: string[]
  readonly checkpoint: ChkEnvelope | null
}

/** An RFC 9162 consistency proof between two tree sizes. */
export interface ConsistencyProofDoc {
  readonly first: number
  readonly second: number
  readonly firstRoot: string
  readonly secondRoot: string
  readonly proof: string[]
}

/** What the audit service needs from the node. */
export interface AuditServiceComponents {
  readonly store: Store
  readonly log: AuditLog
  readonly clock: () => number
  readonly nodeDid: () => string
  readonly nodeKey: () => KeyPair
  readonly keyLog: () => KeyEvent[]
}

/** Makes checkpoints and proofs, and the verifiable export. */
export class AuditService {
  constructor(private readonly c: AuditServiceComponents) {}

  /** The latest signed checkpoint, if any. */
  latest(): ChkEnvelope | undefined {
    const text = this.c.store.audit.latestCheckpoint()
    return text ? (decodeEnvelope(text) as ChkEnvelope) : undefined
  }

  /** True when entries were appended since the latest checkpoint (besides its own entry). */
  stale(): boolean {
    const latest = this.latest()
    return latest === undefined ? this.c.log.size() > 0 : this.c.log.size() > latest.size + 1
  }

  /** Sign a checkpoint of the whole log now, store it and log it; returns the envelope. */
  checkpoint(): ChkEnvelope {
    return this.c.store.transaction(() => {
      const { size, root } = this.c.log.head()
      const chk = createCheckpoint(this.c.nodeDid(), size, root, this.c.clock(), this.c.nodeKey())
      this.c.store.audit.putCheckpoint(size, JSON.stringify(chk))
      this.c.log.append({ kind: 'checkpoint', subject: chk.origin, data: { size, root: chk.root } })
      return chk
    })
  }

  /** A checkpoint covering every entry but its own: the latest if current, else a new one. */
  current(): ChkEnvelope {
    const latest = this.latest()
    return latest !== undefined && !this.stale() ? latest : this.checkpoint()
  }

  /** Entries [0, size) with the node's leaf hashes, the signed checkpoint and the key log. */
  verifiable(): VerifiableLog {
    const checkpoint = this.current()
    const entries: AuditEntry[] = []
    const leafHashes: string[] = []
    for (let start = 0; start < checkpoint.size; start += 5000) {
      for (const row of this.c.store.audit.entries(start, Math.min(5000, checkpoint.size - start))) {
        entries.push(parseAuditEntry(JSON.parse(row.entry)))
        leafHashes.push(toB64(row.leafHash))
      }
    }
    const checkpoints = this.c.store.audit
      .checkpoints()
      .map((t) => decodeEnvelope(t) as ChkEnvelope)
      .filter((c) => c.size < checkpoint.size)
    return {
      entries,
      leafHashes,
      checkpoint,
      checkpoints,
      nodePublicKey: toB64(this.c.nodeKey().publicKey),
      keyLog: this.c.keyLog(),
    }
  }

  private leafAt = (i: number): Uint8Array => this.c.store.audit.leafHash(i)

  private checkSize(size: number, what: string): void {
    const n = this.c.log.size()
    if (!Number.isInteger(size) || size < 0 || size > n) {
      throw new MeshsigError('INVALID_INPUT', `${what} must be an integer from 0 to ${n}`)
    }
  }

  /** Inclusion proof of entry `index` in the tree of `size` (default: the latest checkpoint's). */
  inclusion(index: number, size?: number): InclusionProofDoc {
    const checkpoint = size === undefined ? this.current() : null
    const n = size ?? checkpoint!.size
    this.checkSize(n, 'size')
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new MeshsigError('NOT_FOUND', `no entry ${index} in a log of ${n} entries`)
    }
    return {
      index,
      size: n,
      leafHash: toB64(this.leafAt(index)),
      root: toB64(merkleRoot(this.leafAt, n)),
      proof: inclusionProof(index, n, this.leafAt).map(toB64),
      checkpoint,
    }
  }

  /** Consistency proof that the tree of size `first` is a prefix of the tree of size `second`. */
  consistency(first: number, second: number): ConsistencyProofDoc {
    this.checkSize(second, 'second')
    this.checkSize(first, 'first')
    if (first > second) throw new MeshsigError('INVALID_INPUT', 'first must not exceed second')
    return {
      first,
      second,
      firstRoot: toB64(merkleRoot(this.leafAt, first)),
      secondRoot: toB64(merkleRoot(this.leafAt, second)),
      proof: consistencyProof(first, second, this.leafAt).map(toB64),
    }
  }
}
