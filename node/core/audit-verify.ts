/**
 * Offline verification of an audit export (docs/audit.md, `meshsig audit verify`).
 *
 * The export holds the entries, the node's signed checkpoint (`chk`: size and
 * Merkle root) and the node's public key; it should also hold `leafHashes`,
 * the node's own list of leaf hashes. That list costs nothing in trust: it is
 * checked against the signed root, so it cannot be rewritten along with an
 * entry without the root check failing. When it checks out, every entry is
 * matched to its signed leaf and the verdict names exactly which entries were
 * altered, removed, reordered, duplicated or renumbered. When it is absent or
 * does not check out, the verdict says so, and localises altered content only
 * as far as the signed checkpoints allow (`checkpoints`: older signed
 * checkpoints, each covering a prefix of the log).
 *
 * One pass over the entries, O(n) hashes (plus O(n log n) for reorder
 * analysis); memory O(n) typed arrays and never a copy of the entries. An
 * entry whose hash is the signed leaf at its index is byte for byte what the
 * node logged and skips the shape check; every other entry gets it.
 */
import {
  EntryMatcher,
  LeafTable,
  diagnoseExact,
  diagnoseStructure,
  newEntryFacts,
  type EntryFacts,
} from './audit-diagnose.js'
import { checkAuditEntry, type AuditEntry } from './audit-entry.js'
import { ProblemSink, entryRange, type AuditProblem } from './audit-problems.js'
import { readCheckpoints, type SignedCheckpoint } from './audit-checkpoint.js'
import { canonicalize } from './canonical.js'
import { fromB64, toB64, utf8 } from './encoding.js'
import type { ChkEnvelope, KeyEvent } from './envelope.js'
import { MalformedError } from './errors.js'
import { HASH_LENGTH, MerkleAccumulator, equalHashes, hashLeaf, merkleRoot } from './merkle.js'

/**
 * What an audit export holds, as the node writes it (docs/audit.md). Readers
 * ignore any other field (a summary, agents, …).
 */
export interface AuditExport {
  /** Every entry, in log order, each carrying its own `index`. */
  readonly entries: readonly AuditEntry[]
  /** The node's checkpoint over all of them: `size` = entries.length. */
  readonly checkpoint: ChkEnvelope
  /** The node's current public key, b64 (a did:key or did:msig is accepted too). */
  readonly nodePublicKey: string
  /** The node's leaf hash of each entry, b64, in log order: lets a verifier name each tampered entry. */
  readonly leafHashes?: readonly string[]
  /** Older signed checkpoints (prefixes of the log): localise tampering when leaf hashes cannot. */
  readonly checkpoints?: readonly ChkEnvelope[]
  /** The node's key event log, needed when its key was rotated since inception. */
  readonly keyLog?: readonly KeyEvent[]
}

/** What a verification concluded. `ok` only when nothing at all is wrong. */
export interface AuditVerdict {
  /** True when the signature, origin, size, root and every entry check out. */
  readonly ok: boolean
  /** Number of entries in the export. */
  readonly size: number
  /** Merkle root recomputed over the export's entries as given, b64. */
  readonly root: string
  /** The main checkpoint as read (even when its signature failed), or null when unreadable. */
  readonly checkpoint: SignedCheckpoint | null
  /** `exact` when authenticated leaf hashes let every entry be named; else `structural`. */
  readonly diagnosis: 'exact' | 'structural'
  /** What is wrong, global problems first, then by log index. */
  readonly problems: readonly AuditProblem[]
  /** Problems left out past `maxProblems`. */
  readonly omittedProblems: number
}

/** Options of `verifyAuditExport`. */
export interface VerifyAuditOptions {
  /** Called with (done, total) units of work as the verification advances, and once at the end. */
  readonly onProgress?: (done: number, total: number) => void
  /** Units of work between two progress calls. Default 10 000. */
  readonly progressInterval?: number
  /** Most problems to list. Default 1000. */
  readonly maxProblems?: number
  /** Distance and budget of the search for entries whose index field was changed. */
  readonly match?: { readonly window?: number; readonly budget?: number }
}

interface ExportView {
  readonly entries: readonly unknown[]
  readonly leafHashes: unknown
}

class Progress {
  readonly #total: number
  readonly #every: number
  readonly #report: ((done: number, total: number) => void) | undefined
  #done = 0
  #next: number

  constructor(total: number, options: VerifyAuditOptions) {
    this.#total = total
    this.#every = Math.max(1, options.progressInterval ?? 10_000)
    this.#report = options.onProgress
    this.#next = this.#every
  }

  tick(): void {
    this.#done += 1
    if (this.#done >= this.#next) {
      this.#next += this.#every
      this.#report?.(this.#done, this.#total)
    }
  }

  finish(): void {
    this.#report?.(this.#total, this.#total)
  }
}

/**
 * Verify an audit export offline. `input` is the parsed JSON of the export:
 * `{entries, checkpoint, nodePublicKey, leafHashes?, checkpoints?, keyLog?}`;
 * other fields are ignored. Throws `MalformedError` only when `input` is not
 * an object with an `entries` array; everything else is a problem in the
 * verdict.
 */
export function verifyAuditExport(input: unknown, options: VerifyAuditOptions = {}): AuditVerdict {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { entries?: unknown }).entries)) {
    throw new MalformedError('an audit export is a JSON object with an "entries" array')
  }
  const view = input as ExportView
  const sink = new ProblemSink(options.maxProblems)
  const { main, trusted } = readCheckpoints(input as Record<string, unknown>, sink)
  const leafCount = Array.isArray(view.leafHashes) ? view.leafHashes.length : 0
  const progress = new Progress(view.entries.length + leafCount, options)
  // a size nobody signed (the checkpoint does not verify) sizes nothing: the entries do
  const signedSize = main?.trusted ? main.size : view.entries.length
  const leaves = main?.trusted ? authenticLeaves(view.leafHashes, main, sink, progress) : null
  const root = entryPass(view.entries, { main, trusted, leaves, sink, progress, signedSize, options })
  if (main?.trusted && view.entries.length !== main.size) {
    sink.report('size-mismatch', `the export holds ${view.entries.length} entries; the checkpoint signs ${main.size}`)
  }
  progress.finish()
  return {
    ok: sink.empty && main?.trusted === true,
    size: view.entries.length,
    root: toB64(root),
    checkpoint: main,
    diagnosis: leaves ? 'exact' : 'structural',
    problems: sortProblems(sink.problems()),
    omittedProblems: sink.omitted,
  }
}

/** The export's leaf hash list when it has the signed root, else null (with the reason reported). */
function authenticLeaves(
  list: unknown,
  main: SignedCheckpoint,
  sink: ProblemSink,
  progress: Progress,
): LeafTable | null {
  if (list === undefined) return null
  if (!Array.isArray(list) || list.length !== main.size) {
    const got = Array.isArray(list) ? `${list.length} hashes` : 'not a list'
    sink.report('malformed', `leafHashes must hold one b64 hash per signed entry (${main.size}); got ${got}`)
    return null
  }
  const bytes = new Uint8Array(list.length * HASH_LENGTH)
  for (let i = 0; i < list.length; i++) {
    try {
      bytes.set(fromB64(list[i] as string, 'leaf hash', HASH_LENGTH), i * HASH_LENGTH)
    } catch {
      sink.report('malformed', `leafHashes[${i}] is not a b64 32-byte hash`)
      return null
    }
    progress.tick()
  }
  const table = new LeafTable(bytes)
  const root = merkleRoot((i) => table.at(i), table.size)
  if (!equalHashes(root, fromB64(main.root, 'root', HASH_LENGTH))) {
    sink.report(
      'root-mismatch',
      'leafHashes do not have the signed root: they were rewritten or corrupted, so entries cannot be named ' +
        'one by one; altered content is localised by the signed checkpoints only',
    )
    return null
  }
  return table
}

interface PassContext {
  readonly main: SignedCheckpoint | null
  readonly trusted: readonly SignedCheckpoint[]
  readonly leaves: LeafTable | null
  readonly sink: ProblemSink
  readonly progress: Progress
  readonly signedSize: number
  readonly options: VerifyAuditOptions
}

/** Hash every entry once, check signed prefix roots, then diagnose. Returns the root over all entries. */
function entryPass(entries: readonly unknown[], ctx: PassContext): Uint8Array {
  const facts = newEntryFacts(entries.length)
  const matcher = ctx.leaves ? new EntryMatcher(ctx.leaves, facts, ctx.options.match) : null
  const prefixes = new PrefixChecker(ctx.trusted, ctx.main, ctx.sink)
  const acc = new MerkleAccumulator()
  prefixes.check(acc)
  for (let p = 0; p < entries.length; p++) {
    acc.append(hashEntry(entries[p], p, facts, matcher, ctx))
    prefixes.check(acc)
    ctx.progress.tick()
  }
  if (matcher && ctx.leaves) {
    const entryAt = (p: number): AuditEntry | undefined => {
      const checked = checkAuditEntry(entries[p])
      return checked.ok ? checked.entry : undefined
    }
    matcher.resolveRuns(entryAt)
    matcher.matchLeftovers(entryAt)
    diagnoseExact(facts, ctx.leaves.size, ctx.sink)
  } else {
    diagnoseStructure(facts, ctx.signedSize, ctx.sink)
  }
  prefixes.finish(entries.length)
  return acc.root()
}

/**
 * The leaf hash of the entry at position `p`, recording the index it claims
 * and (exact mode) the signed leaf it is. An entry whose hash is the signed
 * leaf at its index is byte for byte what the node logged, so its shape
 * needs no second check; every other entry gets the full shape check.
 */
function hashEntry(
  raw: unknown,
  p: number,
  facts: EntryFacts,
  matcher: EntryMatcher | null,
  ctx: PassContext,
): Uint8Array {
  const claimed = claimedIndex(raw)
  const bytes = rawEntryBytes(raw)
  const hash = leafHashOfBytes(bytes)
  matcher?.earn(bytes?.length ?? 0) // the search may re-hash a few times what the entries hold (audit-diagnose.ts)
  facts.claimed[p] = claimed
  if (ctx.leaves?.matches(claimed, hash)) {
    facts.origin[p] = claimed
    return hash
  }
  const checked = checkAuditEntry(raw)
  if (checked.ok) {
    matcher?.match(p, checked.entry, hash)
  } else {
    facts.malformed[p] = 1
    ctx.sink.report('malformed', `entry at position ${p}: ${checked.message}`, { position: p })
  }
  return hash
}

/** Compares the running root with each signed checkpoint when the pass reaches its size. */
class PrefixChecker {
  readonly #sorted: SignedCheckpoint[]
  readonly #main: SignedCheckpoint | null
  readonly #sink: ProblemSink
  #next = 0
  #lastGood = 0
  #failed = false

  constructor(trusted: readonly SignedCheckpoint[], main: SignedCheckpoint | null, sink: ProblemSink) {
    this.#sorted = [...trusted].sort((a, b) => a.size - b.size)
    this.#main = main
    this.#sink = sink
  }

  check(acc: MerkleAccumulator): void {
    for (let c = this.#sorted[this.#next]; c !== undefined && c.size === acc.size; c = this.#sorted[this.#next]) {
      this.#next += 1
      if (equalHashes(acc.root(), fromB64(c.root, 'root', HASH_LENGTH))) {
        if (!this.#failed) this.#lastGood = c.size
        continue
      }
      if (this.#failed && c !== this.#main) continue // implied by the first failure
      const localise = !this.#failed && c.size > this.#lastGood
      const where = localise ? `; the first difference lies in ${entryRange(this.#lastGood, c.size)}` : ''
      const message = `the first ${c.size} entries do not have the root checkpoint ts=${c.ts} signed${where}`
      this.#sink.report('root-mismatch', message, localise ? { index: this.#lastGood, end: c.size } : {})
      this.#failed = true
    }
  }

  /** Report the checkpoints (other than the main one, reported by the caller) that reach past the export. */
  finish(count: number): void {
    for (const c of this.#sorted.slice(this.#next)) {
      if (c === this.#main || c.size <= count) continue
      this.#sink.report('size-mismatch', `checkpoint ts=${c.ts} signs ${c.size} entries; the export holds ${count}`)
    }
  }
}

/** The `index` an entry claims (-1 when it claims none a log could hold). */
export function claimedIndex(raw: unknown): number {
  const index = typeof raw === 'object' && raw !== null ? (raw as { index?: unknown }).index : undefined
  return typeof index === 'number' && Number.isSafeInteger(index) && index >= 0 ? index : -1
}

/** Leaf hash of a malformed entry: of its JCS when it has one, else of nothing a real entry could be. */
export function rawLeafHash(raw: unknown): Uint8Array {
  return leafHashOfBytes(rawEntryBytes(raw))
}

/** The leaf hash of an entry's JCS bytes; of nothing a real entry could be when it has none (null). */
function leafHashOfBytes(bytes: Uint8Array | null): Uint8Array {
  return bytes === null ? new Uint8Array(HASH_LENGTH) : hashLeaf(bytes)
}

/** UTF-8 of the JCS text of an untrusted entry, or null when it has none. */
function rawEntryBytes(raw: unknown): Uint8Array | null {
  try {
    return utf8(canonicalize(raw))
  } catch {
    return null
  }
}

function sortProblems(problems: AuditProblem[]): AuditProblem[] {
  const key = (p: AuditProblem): number => (p.index === undefined ? -1 : p.index)
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => key(a.p) - key(b.p) || a.i - b.i)
    .map(({ p }) => p)
}
