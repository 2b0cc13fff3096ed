/**
 * A message this node stores, verified again later (docs/api.md `POST
 * /messages/verify`). It was accepted when its signature verified under its
 * sender's current key; a later rotation or revocation does not undo that.
 * So its signature is checked again under the key of the sender's key event
 * log that signed it, and the answer says what changed since. An envelope
 * this node does not store is judged by the rules of now (ROTATED_KEY,
 * REVOKED): a key rotated out because it leaked can still sign a backdated
 * message.
 */
import {
  didFromPublicKey,
  fromB64,
  publicKeyFromIdentifier,
  toB64,
  verifyEnvelopeSignature,
  type MsgEnvelope,
} from '../core/index.js'
import type { StoredVerification } from '../core/views.js'
import type { KeyEventsRepo } from '../store/index.js'

export type { StoredVerification }

interface KeyAt {
  readonly key: string
  readonly seq: number
}

/** The keys the DID's key event log made current, in order (the DID's own key when no log is known). */
function keysOf(did: string, keyEvents: Pick<KeyEventsRepo, 'log'>): KeyAt[] {
  const keys: KeyAt[] = []
  for (const e of keyEvents.log(did)) if (e.type !== 'rev') keys.push({ key: e.key, seq: e.seq })
  if (keys.length === 0) {
    try {
      keys.push({ key: toB64(publicKeyFromIdentifier(did)), seq: 0 })
    } catch {
      // not a DID that names a key: no key to check under
    }
  }
  return keys
}

/**
 * How stored message `m`, accepted at `acceptedAt` (ms), checks out now:
 * the key that signed it and what changed since; undefined when its
 * signature verifies under no key its sender ever had.
 */
export function storedVerification(
  m: MsgEnvelope,
  acceptedAt: number,
  keyEvents: Pick<KeyEventsRepo, 'log' | 'state'>,
): StoredVerification | undefined {
  const keys = keysOf(m.from, keyEvents)
  const signer = keys.find(({ key }) => {
    try {
      verifyEnvelopeSignature(m, fromB64(key, 'key', 32))
      return true
    } catch {
      return false
    }
  })
  if (signer === undefined || didFromPublicKey(fromB64(keys[0]!.key, 'key', 32)) !== m.from) return undefined
  const revoked = (did: string | null): did is string => did !== null && keyEvents.state(did)?.revoked != null
  return {
    acceptedAt: new Date(acceptedAt).toISOString(),
    keySeq: signer.seq,
    keyRotatedSince: signer !== keys[keys.length - 1],
    revokedSince: [m.from, m.to].filter(revoked),
  }
}
