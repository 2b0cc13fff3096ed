/**
 * Presence announcements (docs/protocol.md §10, "The pull"): the statement a
 * node gossips when it starts or finds a peer after having had none, "the
 * node whose key is in `peerId` is reachable at `ts`: deliver what waits for
 * the agents it hosts". `sig` is Ed25519 over
 * `0xFF || UTF-8("meshsig/v1/prs\n") || JCS(presence without sig)`, like every
 * envelope (docs/protocol.md §4), by the key inside `peerId`. Not an envelope
 * of the registry: never stored or ingested. Pure: the clock and keys come in.
 */
import * as z from 'zod'
import { canonicalize } from './canonical.js'
import { peerIdFromPublicKey, publicKeyFromPeerId } from './did.js'
import { domainSigningInput } from './envelope.js'
import { b64Field } from './envelope-schema.js'
import { fromB64, toB64, utf8 } from './encoding.js'
import { MalformedError, MeshsigError, SignatureInvalidError } from './errors.js'
import { verifySignature, type KeyPair } from './keys.js'

/** The signing domain of a presence announcement. */
export const PRESENCE_TYPE = 'prs' as const

/** Largest encoded presence accepted (bytes): the statement is about 200. */
export const MAX_PRESENCE_BYTES = 1024

/** `prs`: the node whose key `peerId` holds is reachable at `ts` (docs/protocol.md §10). */
export const presenceSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal(PRESENCE_TYPE),
  peerId: z
    .string()
    .max(64)
    .regex(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/, 'must be an Ed25519 PeerId'),
  ts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  sig: b64Field(64),
})

/** A signed presence announcement. */
export type Presence = z.infer<typeof presenceSchema>

/** The exact bytes a presence signature covers. */
export function presenceSigningBytes(presence: Omit<Presence, 'sig'> | Presence): Uint8Array {
  const { sig: _sig, ...body } = presence as Presence
  return domainSigningInput(PRESENCE_TYPE, canonicalize(body))
}

/** Sign this node's presence at `ts` with its node key (the key of its PeerId). */
export function signPresence(nodeKey: KeyPair, ts: number): Presence {
  const unsigned = { v: 1 as const, type: PRESENCE_TYPE, peerId: peerIdFromPublicKey(nodeKey.publicKey), ts }
  return { ...unsigned, sig: toB64(nodeKey.sign(presenceSigningBytes(unsigned))) }
}

/** The wire bytes of a presence: its JCS text. */
export function encodePresence(presence: Presence): Uint8Array {
  return utf8(canonicalize(presence))
}

/**
 * Decode untrusted presence bytes and check what costs no signature check:
 * shape (`MALFORMED`) and that it names its publisher (`KEY_MISMATCH`:
 * gossip's `from`, whose key signed the gossip frame). Returns the presence,
 * its signature not yet checked (`checkPresenceSignature`).
 */
export function parsePresence(data: Uint8Array, from: string): Presence {
  if (data.length > MAX_PRESENCE_BYTES) throw new MalformedError(`presence is over ${MAX_PRESENCE_BYTES} bytes`)
  let input: unknown
  try {
    input = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch {
    throw new MalformedError('presence is not JSON')
  }
  const parsed = presenceSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'presence'
    throw new MalformedError(`malformed presence: ${where}: ${issue?.message ?? 'invalid'}`, { field: where })
  }
  const presence = parsed.data
  if (presence.peerId !== from) {
    throw new MeshsigError('KEY_MISMATCH', `presence of ${presence.peerId} published by ${from}`)
  }
  return presence
}

/** Throw `SIGNATURE_INVALID` unless `sig` verifies under the key inside `peerId`. */
export function checkPresenceSignature(presence: Presence): void {
  const key = publicKeyFromPeerId(presence.peerId)
  if (!verifySignature(presenceSigningBytes(presence), fromB64(presence.sig, 'sig', 64), key)) {
    throw new SignatureInvalidError(`presence is not signed by ${presence.peerId}`, { type: PRESENCE_TYPE })
  }
}

/**
 * Decode and check untrusted presence bytes: shape (`MALFORMED`), published
 * by the peer it names (`KEY_MISMATCH`), signed by that peer's key
 * (`SIGNATURE_INVALID`). Time is the caller's to judge. Returns the checked presence.
 */
export function verifyPresence(data: Uint8Array, from: string): Presence {
  const presence = parsePresence(data, from)
  checkPresenceSignature(presence)
  return presence
}
