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

/**
 * How far a rotation's signed time may run behind this node's clock before
 * a message accepted after it counts as taken under a retired key: the
 * freshness window of messages (docs/protocol.md §5). A sender whose clock
 * is a minute slow does not lose the messages it sent just before rotating.
 */
export const ROTATION_CLOCK_SLACK_MS = 5 * 60_000

interface KeyAt {
  readonly key: string
  readonly seq: number
  /** The signed time of the event that made the key current. */
  readonly ts: number
}

/** The keys the DID's key event log made current, in order (the DID's own key when no log is known). */
function keysOf(did: string, keyEvents: Pick<KeyEventsRepo, 'log'>): KeyAt[] {
  const keys: KeyAt[] = []
  for (const e of keyEvents.log(did)) if (e.type !== 'rev') keys.push({ key: e.key, seq: e.seq, ts: e.ts })
  if (keys.length === 0) {
    try {
      keys.push({ key: toB64(publicKeyFromIdentifier(did)), seq: 0, ts: 0 })
    } catch {
      // not a DID that names a key: no key to check under
    }
  }
  return keys
}

/**
 * How message `m`, stored as `kept` and accepted at `acceptedAt` (ms),
 * checks out now: the key that signed it and what changed since. Undefined
 * (judge it by the rules of now) when `m` is not the envelope kept (the id
 * covers the signed bytes, not the signature: a leaked old key can sign the
 * same bytes again), when its signature verifies under no key its sender
 * ever had, or when that key's owner had rotated it away more than
 * `ROTATION_CLOCK_SLACK_MS` before this node accepted the message (a node
 * not yet told of the rotation took what a thief signed).
 */
export function storedVerification(
  m: MsgEnvelope,
  kept: MsgEnvelope,
  acceptedAt: number,
  keyEvents: Pick<KeyEventsRepo, 'log' | 'state'>,
): StoredVerification | undefined {
  if (m.sig !== kept.sig) return undefined
  const keys = keysOf(m.from, keyEvents)
  const at = keys.findIndex(({ key }) => {
    try {
      verifyEnvelopeSignature(m, fromB64(key, 'key', 32))
      return true
    } catch {
      return false
    }
  })
  const signer = keys[at]
  if (signer === undefined || didFromPublicKey(fromB64(keys[0]!.key, 'key', 32)) !== m.from) return undefined
  // the rotation's time is its signer's clock: within the freshness window of this node's it decides nothing
  const replacedAt = keys[at + 1]?.ts
  if (replacedAt !== undefined && replacedAt + ROTATION_CLOCK_SLACK_MS <= acceptedAt) return undefined
  const revoked = (did: string | null): did is string => did !== null && keyEvents.state(did)?.revoked != null
  return {
    acceptedAt: new Date(acceptedAt).toISOString(),
    keySeq: signer.seq,
    keyRotatedSince: signer !== keys[keys.length - 1],
    revokedSince: [m.from, m.to].filter(revoked),
  }
}
