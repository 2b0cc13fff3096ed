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

/**
 * The `ts` of the registration a rotation leaves: now, or a ms later when the
 * held one has that very `ts` (an envelope's id is of its content, not of
 * its signature: the same fields at the same `ts` would be the same
 * registration). Signed by the new key, it replaces the held one whatever
 * that one's `ts` (`replacesRegistration`); dated after a held one that
 * whoever held the old key dated far ahead (`MAX_TS - 1`), it took that date,
 * and the owner's own registration under the new key could never replace it
 * (review 102 F2).
 */
export function followingTs(heldTs: number, now: number): number {
  return heldTs === now ? now + 1 : now
}
