/**
 * The problems an audit export verification reports, and a collector that
 * merges runs of the same problem over consecutive entries into one ranged
 * problem (so a million renumbered entries are one line, not a million) and
 * caps how many are kept.
 */

/**
 * What went wrong with an audit export:
 * - `altered`: the entry at `index` is not the entry the signed tree holds there;
 * - `missing`: no entry of the export is the signed entry at `index` (a range with `end`);
 * - `reordered`: the entry at `index` comes after a later one;
 * - `duplicated`: the entry at `index` appears more than once;
 * - `renumbered`: the entry is intact but its `index` field was changed;
 * - `inserted`: an entry that is no entry of the signed log;
 * - `root-mismatch`: a signed root does not match what the export holds;
 * - `bad-signature`: a checkpoint's signature does not verify under the node key;
 * - `origin-mismatch`: the checkpoint's origin DID is not the given key's (or its key event log says otherwise);
 * - `size-mismatch`: the number of entries, or an entry index, disagrees with the signed size;
 * - `malformed`: something in the export does not have the required shape.
 */
export type AuditProblemKind =
  | 'altered'
  | 'missing'
  | 'reordered'
  | 'duplicated'
  | 'renumbered'
  | 'inserted'
  | 'root-mismatch'
  | 'bad-signature'
  | 'origin-mismatch'
  | 'size-mismatch'
  | 'malformed'

/** One problem found in an audit export. */
export interface AuditProblem {
  /** What kind of problem. */
  readonly kind: AuditProblemKind
  /** The log index (leaf position in the signed tree) it concerns; the first of a range. */
  readonly index?: number
  /** End (exclusive) of the range of log indexes, when the problem covers more than one. */
  readonly end?: number
  /** Position in the export's `entries` array, when that says more than `index`. */
  readonly position?: number
  /** A sentence for people. */
  readonly message: string
}

/** Where a problem is, and how to describe it, before runs are merged. */
export interface ProblemDraft {
  readonly kind: AuditProblemKind
  readonly index?: number
  readonly position?: number
  /**
   * Problems with the same kind and key over consecutive indexes (and
   * consecutive positions, when given) merge into one range.
   */
  readonly key?: string
  /** Number of log indexes it covers from `index`; default 1. */
  readonly span?: number
  /** Sentence for the log index range [from, to) (to = from + 1 for one entry). */
  readonly describe: (from: number, to: number) => string
}

interface Run {
  draft: ProblemDraft
  end: number
  positionEnd: number
}

/** Default number of problems kept by a verification. */
export const DEFAULT_MAX_PROBLEMS = 1000

/** Collects problems, merging runs and keeping at most `max`. */
export class ProblemSink {
  readonly #max: number
  readonly #runs: Run[] = []
  #omitted = 0

  constructor(max = DEFAULT_MAX_PROBLEMS) {
    this.#max = Math.max(1, max)
  }

  /** Record a problem described by a fixed sentence. */
  report(kind: AuditProblemKind, message: string, at: { index?: number; end?: number; position?: number } = {}): void {
    const { end, ...where } = at
    const span = end !== undefined && at.index !== undefined ? end - at.index : undefined
    this.add({ kind, ...where, ...(span !== undefined ? { span } : {}), describe: () => message })
  }

  /** Record a problem, extending the previous one when it continues its run. */
  add(draft: ProblemDraft): void {
    const last = this.#runs[this.#runs.length - 1]
    if (last !== undefined && continues(last, draft)) {
      last.end += 1
      last.positionEnd += 1
      return
    }
    if (this.#runs.length >= this.#max) {
      this.#omitted += 1
      return
    }
    const end = (draft.index ?? 0) + Math.max(1, draft.span ?? 1)
    this.#runs.push({ draft, end, positionEnd: (draft.position ?? 0) + 1 })
  }

  /** True when nothing was reported. */
  get empty(): boolean {
    return this.#runs.length === 0
  }

  /** Problems left out because the cap was reached. */
  get omitted(): number {
    return this.#omitted
  }

  /** The problems, in the order they were found. */
  problems(): AuditProblem[] {
    return this.#runs.map(({ draft, end }) => {
      const from = draft.index ?? 0
      const problem: AuditProblem = { kind: draft.kind, message: draft.describe(from, end) }
      return {
        ...problem,
        ...(draft.index !== undefined ? { index: draft.index } : {}),
        ...(draft.index !== undefined && end > from + 1 ? { end } : {}),
        ...(draft.position !== undefined ? { position: draft.position } : {}),
      }
    })
  }
}

function continues(run: Run, next: ProblemDraft): boolean {
  const prev = run.draft
  if (prev.key === undefined || prev.key !== next.key || prev.kind !== next.kind) return false
  if (prev.index === undefined || next.index !== run.end) return false
  if (prev.position === undefined) return next.position === undefined
  return next.position === run.positionEnd
}

/** "entry 5" or "entries 5..9" for the log index range [from, to). */
export function entryRange(from: number, to: number): string {
  return to - from <= 1 ? `entry ${from}` : `entries ${from}..${to - 1}`
}
