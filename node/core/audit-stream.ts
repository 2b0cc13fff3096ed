/**
 * Streaming verification of an audit log (the NDJSON export, docs/audit.md):
 * the same checks as `verifyAuditExport`, one line at a time, in memory that
 * does not grow with the log. The caller hands over the header (main
 * checkpoint, node key, key log), then each entry with the node's leaf hash
 * of it, and each older checkpoint at the point of the stream where the log
 * reaches its size; `finish()` gives the verdict.
 *
 * Two Merkle frontiers run side by side (O(log n) each): one over the
 * entries' own hashes, one over the leaf hashes written next to them. The
 * first must have the signed root (else the log was changed). When the second
 * has it too, the leaf hashes are the node's, and every entry whose hash is
 * not its leaf is named as altered ("exact" diagnosis); otherwise entries are
 * localised by the signed checkpoints and by the indexes they claim
 * ("structural"). Only the first `maxProblems` suspects are kept.
 */
import { checkAuditEntry } from './audit-entry.js'
import { readOne, readSigner, type CheckpointSigner, type SignedCheckpoint } from './audit-checkpoint.js'
import { ProblemSink, entryRange } from './audit-problems.js'
import { claimedIndex, rawLeafHash, type AuditVerdict } from './audit-verify.js'
import { fromB64, toB64 } from './encoding.js'
import { HASH_LENGTH, MerkleAccumulator, equalHashes } from './merkle.js'

/**
 * The `format` of the first line of an NDJSON audit export (docs/audit.md):
 * version 2 lists agents, connections, revocations and trust one line each
 * before the end line; version 1 put them all in the end line.
 */
export const AUDIT_NDJSON_FORMAT = 'meshsig-audit-ndjson/2'
/** The formats a verifier reads: this one and version 1 (exports made before it). */
export const AUDIT_NDJSON_FORMATS: readonly string[] = ['meshsig-audit-ndjson/1', AUDIT_NDJSON_FORMAT]

/** Options of `AuditStreamVerifier`. */
export interface AuditStreamOptions {
  /** Most problems (and suspect entries) kept. Default 1000. */
  readonly maxProblems?: number
}

interface Suspect {
  readonly position: number
  readonly claimed: number
}

/** Verifies a log handed over entry by entry; memory O(log n + maxProblems). */
export class AuditStreamVerifier {
  readonly #sink: ProblemSink
  readonly #max: number
  readonly #entries = new MerkleAccumulator()
  readonly #leaves = new MerkleAccumulator()
  readonly #suspects: Suspect[] = []
  #suspectsOmitted = 0
  #signer: CheckpointSigner | null = null
  #main: SignedCheckpoint | null = null
  #leavesUsable = true
  #lastGood = 0
  #prefixFailed = false
  #offset = 0

  constructor(options: AuditStreamOptions = {}) {
    this.#max = Math.max(1, options.maxProblems ?? 1000)
    this.#sink = new ProblemSink(this.#max)
  }

  /** Entries handed over so far. */
  get count(): number {
    return this.#entries.size
  }

  /** The main checkpoint as read from the header (null before it, or when unreadable). */
  get main(): SignedCheckpoint | null {
    return this.#main
  }

  /** Report a problem found outside the log (a line that is not JSON, a missing trailer, …). */
  report(message: string, position?: number): void {
    this.#sink.report('malformed', message, position === undefined ? {} : { position })
  }

  /** The header: `{checkpoint, nodePublicKey, keyLog?}`. */
  header(doc: Record<string, unknown>): void {
    this.#signer = readSigner(doc, this.#sink)
    this.#main = readOne(doc.checkpoint, 'checkpoint', this.#signer, this.#sink)
    if (this.#main?.trusted === true && this.#main.size === 0) this.checkpoint(doc.checkpoint)
  }

  /** An older checkpoint, placed right after the entry that completes its prefix. */
  checkpoint(input: unknown): void {
    if (this.#signer === null) return this.report('a checkpoint line comes before the header')
    const c = readOne(input, `checkpoint after entry ${this.count - 1}`, this.#signer, this.#sink)
    if (c === null || !c.trusted) return
    if (c.size !== this.count) {
      this.#sink.report(
        'size-mismatch',
        `checkpoint ts=${c.ts} signs ${c.size} entries but follows entry ${this.count - 1}`,
      )
      return
    }
    if (equalHashes(this.#entries.root(), fromB64(c.root, 'root', HASH_LENGTH))) {
      if (!this.#prefixFailed) this.#lastGood = c.size
      return
    }
    if (this.#prefixFailed) return // implied by the first failure
    const where = c.size > this.#lastGood ? `; the first difference lies in ${entryRange(this.#lastGood, c.size)}` : ''
    this.#sink.report(
      'root-mismatch',
      `the first ${c.size} entries do not have the root checkpoint ts=${c.ts} signed${where}`,
      {
        index: this.#lastGood,
        end: c.size,
      },
    )
    this.#prefixFailed = true
  }

  /** One entry (as parsed) and the node's leaf hash of it (b64). */
  entry(raw: unknown, leaf: unknown): void {
    const position = this.count
    const hash = rawLeafHash(raw)
    const claimed = claimedIndex(raw)
    let listed: Uint8Array | null = null
    try {
      listed = fromB64(leaf as string, 'leaf hash', HASH_LENGTH)
    } catch {
      if (this.#leavesUsable) this.report(`the leaf hash next to entry ${position} is not a b64 32-byte hash`, position)
      this.#leavesUsable = false
    }
    this.#entries.append(hash)
    this.#leaves.append(listed ?? new Uint8Array(HASH_LENGTH))
    if (listed !== null && claimed === position && equalHashes(hash, listed)) {
      if (this.#offset !== 0) this.#checkIndex(position, claimed)
      return
    }
    const checked = checkAuditEntry(raw)
    if (!checked.ok) this.#sink.report('malformed', `entry at position ${position}: ${checked.message}`, { position })
    if (listed !== null && !equalHashes(hash, listed)) this.#suspect(position, claimed)
    this.#checkIndex(position, claimed)
  }

  /** Report where the indexes the entries claim stop following their positions (once per shift, not per entry). */
  #checkIndex(position: number, claimed: number): void {
    const offset = claimed < 0 ? Number.NaN : claimed - position
    if (offset === this.#offset || (Number.isNaN(offset) && Number.isNaN(this.#offset))) return
    this.#offset = offset
    const says = claimed < 0 ? 'has no valid index' : `claims index ${claimed}`
    const why =
      offset > 0
        ? `: ${offset} entries before it are missing, or it was moved or renumbered`
        : offset < 0
          ? ': entries were inserted, duplicated, moved or renumbered before it'
          : ''
    this.#sink.report('renumbered', `the entry at position ${position} ${says}${why}`, {
      index: Math.max(0, claimed),
      position,
    })
  }

  #suspect(position: number, claimed: number): void {
    if (this.#suspects.length < this.#max) this.#suspects.push({ position, claimed })
    else this.#suspectsOmitted += 1
  }

  /** The verdict over everything handed over. */
  finish(): AuditVerdict {
    const main = this.#main
    const n = this.count
    const exact = main?.trusted === true && this.#leavesAuthentic(main)
    this.#nameSuspects(exact)
    if (main?.trusted === true) {
      if (n !== main.size)
        this.#sink.report('size-mismatch', `the export holds ${n} entries; the checkpoint signs ${main.size}`)
      else if (!equalHashes(this.#entries.root(), fromB64(main.root, 'root', HASH_LENGTH))) {
        this.#sink.report('root-mismatch', `the ${n} entries do not have the signed root ${main.root}`)
      }
    } else if (main !== null && this.#signer !== null && this.#sink.empty) {
      this.report('the checkpoint is not trusted')
    } else if (this.#signer === null) {
      this.report('no header: the export does not start with its checkpoint and node key')
    }
    return {
      ok: this.#sink.empty && main?.trusted === true,
      size: n,
      root: toB64(this.#entries.root()),
      checkpoint: main,
      diagnosis: exact ? 'exact' : 'structural',
      problems: this.#sink.problems(),
      omittedProblems: this.#sink.omitted + this.#suspectsOmitted,
    }
  }

  #leavesAuthentic(main: SignedCheckpoint): boolean {
    if (!this.#leavesUsable || this.#leaves.size !== main.size) return false
    if (equalHashes(this.#leaves.root(), fromB64(main.root, 'root', HASH_LENGTH))) return true
    this.#sink.report(
      'root-mismatch',
      'the leaf hashes listed with the entries do not have the signed root: they were rewritten or lines were ' +
        'moved, so entries cannot be named one by one; altered content is localised by the signed checkpoints only',
    )
    return false
  }

  #nameSuspects(exact: boolean): void {
    for (const s of this.#suspects) {
      const msg = exact
        ? `entry ${s.position} was altered: its content does not hash to the leaf the node signed`
        : `entry at position ${s.position} does not hash to the leaf hash listed with it`
      this.#sink.report('altered', msg, { index: exact ? s.position : Math.max(0, s.claimed), position: s.position })
    }
  }
}
