/**
 * Which registration of a DID stands (docs/protocol.md §5, "The current
 * registration"): the pure rule that ingestion applies on every path (API,
 * gossip, sync).
 */
import { MeshsigError } from './errors.js'
import { verifyEnvelopeSignature, type Envelope } from './envelope.js'

/** The registration a node holds for a DID. */
export interface HeldRegistration {
  /** Its envelope id. */
  readonly regId: string
  /** Its `ts`. */
  readonly regTs: number
  /** The envelope as stored (JSON). */
  readonly regEnvelope: string
}

/**
 * True when the stored registration `held` was signed by `currentKey`, the
 * key the DID's key event log says is current. False when a key the DID
 * has since rotated away from signed it, or when it cannot be read.
 */
export function heldUnderCurrentKey(held: HeldRegistration, currentKey: Uint8Array): boolean {
  try {
    verifyEnvelopeSignature(JSON.parse(held.regEnvelope) as Envelope, currentKey)
    return true
  } catch (err) {
    if (err instanceof MeshsigError || err instanceof SyntaxError) return false
    throw err
  }
}

/**
 * True when an accepted registration (`id`, `ts`; signed by the DID's current
 * key, as acceptance checked) replaces the one held: it is another envelope,
 * and it is dated later (at the same `ts`, the lower id wins, so that every
 * node keeps the same one whatever order they came in), or the held one was
 * signed by a key the DID has rotated away from. A registration dated far
 * ahead under a key that leaked so does not outlive the rotation that retires
 * the key. `currentKey` is asked for only in that last case.
 */
export function replacesRegistration(
  held: HeldRegistration,
  incoming: { readonly id: string; readonly ts: number },
  currentKey: () => Uint8Array,
): boolean {
  if (held.regId === incoming.id) return false
  if (incoming.ts > held.regTs || (incoming.ts === held.regTs && incoming.id < held.regId)) return true
  return !heldUnderCurrentKey(held, currentKey())
}
