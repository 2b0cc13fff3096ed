/**
 * Reading and checking the signed checkpoints of an audit export: the main
 * `checkpoint` and any older `checkpoints`, each a `chk` envelope that must
 * verify under the node key given in the export (b64, did:key or did:msig),
 * with an `origin` that names that key: directly (the DID of the key) or,
 * after the node rotated its key, through the node's key event log
 * (`keyLog`), whose current key it must be.
 */
import type { ProblemSink } from './audit-problems.js'
import { didFromPublicKey, publicKeyFromIdentifier, toMsigDid } from './did.js'
import { toB64 } from './encoding.js'
import { isMeshsigError } from './errors.js'
import { envelopeId, parseEnvelope, verifyEnvelopeSignature, type ChkEnvelope, type KeyEvent } from './envelope.js'
import { replayKeyEvents, type KeyState } from './kel.js'

/** A checkpoint as read from an export, and whether it may be relied on. */
export interface SignedCheckpoint {
  /** The node DID that claims to have signed it. */
  readonly origin: string
  /** Number of entries it covers: the log's prefix [0, size). */
  readonly size: number
  /** Merkle root of that prefix, b64. */
  readonly root: string
  /** When it was signed, ms since the epoch. */
  readonly ts: number
  /** Its envelope id. */
  readonly id: string
  /** True when its signature verifies under the node key and its origin names that key. */
  readonly trusted: boolean
}

/** The main checkpoint (or null when unreadable) and every trusted checkpoint, main included. */
export interface CheckpointReading {
  readonly main: SignedCheckpoint | null
  readonly trusted: readonly SignedCheckpoint[]
}

/** The key checkpoints must verify under, and the node's key state when a key log was given. */
export interface CheckpointSigner {
  readonly key: Uint8Array | null
  readonly state: KeyState | null
  readonly logError: string | null
}

/** Read and check the checkpoints of an export, reporting every problem to `sink`. */
export function readCheckpoints(doc: Record<string, unknown>, sink: ProblemSink): CheckpointReading {
  const signer = readSigner(doc, sink)
  const main = readOne(doc.checkpoint, 'checkpoint', signer, sink)
  const trusted = main?.trusted ? [main] : []
  const older = doc.checkpoints
  if (older !== undefined && !Array.isArray(older))
    sink.report('malformed', 'checkpoints must be a list of chk envelopes')
  if (Array.isArray(older)) {
    older.forEach((c, i) => {
      const read = readOne(c, `checkpoints[${i}]`, signer, sink)
      if (read?.trusted) trusted.push(read)
    })
  }
  return { main, trusted }
}

/** Read `nodePublicKey` and `keyLog` of an export (or of an NDJSON header), reporting problems to `sink`. */
export function readSigner(doc: Record<string, unknown>, sink: ProblemSink): CheckpointSigner {
  let key: Uint8Array | null = null
  try {
    key = publicKeyFromIdentifier(doc.nodePublicKey as string)
  } catch {
    sink.report('malformed', 'nodePublicKey must be a b64 32-byte Ed25519 key (or its did:key / did:msig)')
  }
  if (doc.keyLog === undefined) return { key, state: null, logError: null }
  try {
    if (!Array.isArray(doc.keyLog)) throw new Error('keyLog must be a list of key events')
    const events = doc.keyLog.map((e) => parseEnvelope(e))
    if (events.some((e) => e.type !== 'icp' && e.type !== 'rot' && e.type !== 'rev')) {
      throw new Error('keyLog may hold only icp, rot and rev events')
    }
    return { key, state: replayKeyEvents(events as KeyEvent[]), logError: null }
  } catch (err) {
    const why = isMeshsigError(err) || err instanceof Error ? err.message : String(err)
    return { key, state: null, logError: `the node's key event log does not check out: ${why}` }
  }
}

/** Read one `chk` envelope (`label` names it in problems) and say whether it may be relied on. */
export function readOne(
  input: unknown,
  label: string,
  signer: CheckpointSigner,
  sink: ProblemSink,
): SignedCheckpoint | null {
  let chk: ChkEnvelope
  try {
    const envelope = parseEnvelope(input)
    if (envelope.type !== 'chk') throw new Error(`a ${envelope.type} envelope, not chk`)
    chk = envelope
  } catch (err) {
    sink.report('malformed', `${label} is not a chk envelope: ${err instanceof Error ? err.message : String(err)}`)
    return null
  }
  const read = { origin: chk.origin, size: chk.size, root: chk.root, ts: chk.ts, id: envelopeId(chk) }
  if (signer.key === null) return { ...read, trusted: false }
  try {
    verifyEnvelopeSignature(chk, signer.key)
  } catch {
    sink.report(
      'bad-signature',
      `${label} (ts=${chk.ts}) is not signed by nodePublicKey: its size and root prove nothing`,
    )
    return { ...read, trusted: false }
  }
  const originError = originProblem(chk.origin, signer)
  if (originError !== null) {
    sink.report('origin-mismatch', `${label}: ${originError}`)
    return { ...read, trusted: false }
  }
  return { ...read, trusted: true }
}

/** Why `origin` does not name the signer's key, or null when it does. */
function originProblem(origin: string, signer: CheckpointSigner): string | null {
  const key = signer.key as Uint8Array
  let originDid: string
  try {
    originDid = toMsigDid(origin)
  } catch {
    return `origin ${origin} is not a valid DID`
  }
  if (signer.logError !== null) return signer.logError
  const state = signer.state
  if (state === null) {
    if (didFromPublicKey(key) === originDid) return null
    return `origin ${origin} is not the DID of nodePublicKey, and no keyLog links them (needed after a rotation)`
  }
  if (state.did !== originDid) return `keyLog is the log of ${state.did}, not of origin ${origin}`
  if (state.revoked !== null) return `origin ${origin} is revoked (${state.revoked.reason})`
  if (state.key !== toB64(key)) return `nodePublicKey is not the current key of ${origin} in its keyLog`
  return null
}
