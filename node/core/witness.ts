/**
 * The witness's decision on a C2SP tlog-witness `add-checkpoint` request
 * (c2sp.org/tlog-witness, docs/audit.md), pure: parse the body (old size
 * line, consistency proof lines, blank line, signed checkpoint), check the
 * log's signature, the old size against the latest checkpoint this witness
 * cosigned for the origin, and the RFC 6962 consistency proof; answer with
 * the spec's status code. A refusal that proves the log signed two
 * inconsistent checkpoints carries the evidence.
 */
import { fromB64, toB64 } from './encoding.js'
import { isMeshsigError } from './errors.js'
import { EMPTY_ROOT, equalHashes, verifyConsistency } from './merkle.js'
import { parseCheckpointText, parseNote, verifyNote, type CheckpointBody, type NoteVerifier } from './note.js'

/** Most consistency proof lines a request may carry (the spec's bound). */
export const MAX_PROOF_LINES = 63

/** A parsed add-checkpoint body. */
export interface AddCheckpointRequest {
  readonly oldSize: number
  readonly proof: readonly Uint8Array[]
  /** The signed checkpoint note, as sent. */
  readonly note: string
  readonly checkpoint: CheckpointBody
}

/** What the witness last cosigned for one origin. */
export interface WitnessedState {
  readonly size: number
  /** b64 root. */
  readonly root: string
  /** The log-signed note of that checkpoint (evidence if the log later contradicts it). */
  readonly note: string
}

/** The outcome: a status code, and on refusal why (and evidence when the log contradicted itself). */
export type WitnessDecision =
  | { readonly status: 200; readonly request: AddCheckpointRequest }
  | {
      readonly status: 400 | 403 | 404 | 409 | 422
      readonly reason: string
      readonly latestSize?: number
      readonly evidence?: { readonly kind: 'split-view' | 'rewrite'; readonly earlier: string; readonly later: string }
    }

/** Parse an add-checkpoint body; null when it is malformed. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest | null {
  const blank = body.indexOf('\n\n')
  if (blank < 0) return null
  const head = body.slice(0, blank).split('\n')
  const m = /^old (0|[1-9][0-9]{0,15})$/.exec(head[0] ?? '')
  if (m === null || head.length - 1 > MAX_PROOF_LINES) return null
  try {
    const proof = head.slice(1).map((l) => fromB64(l, 'proof hash', 32))
    const note = body.slice(blank + 2)
    const checkpoint = parseCheckpointText(parseNote(note).text)
    return { oldSize: Number(m[1]), proof, note, checkpoint }
  } catch {
    return null
  }
}

/** The add-checkpoint body a log sends: old size, proof lines, blank line, the note. */
export function addCheckpointBody(oldSize: number, proof: readonly Uint8Array[], note: string): string {
  return `old ${oldSize}\n${proof.map((h) => `${toB64(h)}\n`).join('')}\n${note}`
}

/**
 * Decide on `body` given the log's verifier (null: unknown origin) and the
 * state last cosigned for its origin (undefined: never).
 */
export function decideAddCheckpoint(
  body: string,
  logKey: (origin: string) => NoteVerifier | null,
  state: (origin: string) => WitnessedState | undefined,
): WitnessDecision {
  const req = parseAddCheckpoint(body)
  if (req === null) return { status: 400, reason: 'malformed add-checkpoint body' }
  const { origin, size, root } = req.checkpoint
  const key = logKey(origin)
  if (key === null) return { status: 404, reason: `unknown log origin ${origin}` }
  try {
    verifyNote(req.note, [key])
  } catch (err) {
    return { status: 403, reason: isMeshsigError(err) ? err.message : 'bad log signature' }
  }
  if (req.oldSize > size) return { status: 400, reason: 'old size exceeds the checkpoint size' }
  const last = state(origin)
  const lastSize = last?.size ?? 0
  if (last !== undefined && last.size === size && last.root !== toB64(root)) {
    // a split view: the spec answers 422 when the old size matches, else 409 with the latest size
    const evidence = { kind: 'split-view' as const, earlier: last.note, later: req.note }
    const reason = `two roots for size ${size}`
    if (req.oldSize === lastSize) return { status: 422, reason, evidence }
    return { status: 409, reason, latestSize: lastSize, evidence }
  }
  if (req.oldSize !== lastSize)
    return { status: 409, reason: 'old size is not the latest cosigned', latestSize: lastSize }
  if (size === 0 && !equalHashes(root, EMPTY_ROOT)) return { status: 422, reason: 'size 0 with a non-empty root' }
  if (req.oldSize === 0) {
    return req.proof.length === 0 ? { status: 200, request: req } : { status: 422, reason: 'a proof from size 0' }
  }
  const oldRoot = fromB64(last!.root, 'root', 32)
  if (req.oldSize === size && !equalHashes(oldRoot, root)) return { status: 422, reason: 'root differs at same size' }
  if (!verifyConsistency(req.oldSize, size, req.proof, oldRoot, root)) {
    const evidence = { kind: 'rewrite' as const, earlier: last!.note, later: req.note }
    return { status: 422, reason: `not consistent with the checkpoint of size ${req.oldSize}`, evidence }
  }
  return { status: 200, request: req }
}
