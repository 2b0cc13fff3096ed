/**
 * A rotation request (decision 0047): the holder of a DID's current key asks
 * the node that keeps the DID's keys (a custodied agent) to rotate it to the
 * next key the node keeps, proving that it holds the key without sending it.
 * `{v: 1, type: "rotreq", did, prev, node, ts, sig}`, signed by the DID's
 * current key over the signing input of docs/protocol.md §4:
 * 0xFF || "meshsig/v1/rotreq\n" || JCS(request without sig), a domain no
 * envelope, plain signature or other statement shares (SPEC §3).
 *
 * What binds it: `prev` is the id of the DID's last key event, so it is
 * spent by the rotation it asks for (or by any other key event); `node` is
 * the DID of the node asked, so no other node takes it; `ts` must lie within
 * the freshness window of `msg` (±5 minutes). Whoever relays it to the node
 * (a listener that is not the node, which got it from the CLI) only makes the
 * rotation its holder asked for happen, and the answer to it carries no key.
 */
import * as z from 'zod'
import { canonicalize } from './canonical.js'
import { fromB64, toB64 } from './encoding.js'
import { domainSigningInput } from './envelope.js'
import { b64Field } from './envelope-schema.js'
import { ClockSkewError, MalformedError, MeshsigError, SignatureInvalidError } from './errors.js'
import type { KeyState } from './kel.js'
import { verifySignature, type KeyPair } from './keys.js'

const msigDid = z
  .string()
  .max(128)
  .regex(/^did:msig:[1-9A-HJ-NP-Za-km-z]+$/)

/** Shape of a rotation request (strict). */
export const rotationRequestSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('rotreq'),
  did: msigDid,
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  node: msigDid,
  ts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  sig: b64Field(64),
})

/** A holder's signed request that a node rotate a DID it keeps the keys of. */
export type RotationRequest = z.infer<typeof rotationRequestSchema>

/** What a rotation request names: the DID, its last key event's id, the node asked, the time. */
export type RotationRequestInit = Pick<RotationRequest, 'did' | 'prev' | 'node' | 'ts'>

function signingInput(body: Omit<RotationRequest, 'sig'>): Uint8Array {
  return domainSigningInput('rotreq', canonicalize(body))
}

/** Sign a rotation request with the DID's current key. */
export function createRotationRequest(init: RotationRequestInit, currentKey: KeyPair): RotationRequest {
  const body = { v: 1 as const, type: 'rotreq' as const, did: init.did, prev: init.prev, node: init.node, ts: init.ts }
  return { ...body, sig: toB64(currentKey.sign(signingInput(body))) }
}

/** Where and when a rotation request is checked. */
export interface RotationRequestCheck {
  /** The DID's key state on the node asked (not revoked). */
  readonly state: KeyState
  /** The DID of the node asked. */
  readonly node: string
  /** The node's clock (ms). */
  readonly now: number
  /** Freshness window (ms): |ts - now| at most this. */
  readonly maxSkewMs: number
}

/**
 * Check a rotation request against the DID's state on this node. Throws
 * `MALFORMED` (shape), `INVALID_INPUT` (another DID or node),
 * `KEL_INVALID` (made on another state of the log: spent), `CLOCK_SKEW`, or
 * `SIGNATURE_INVALID` (not signed by the DID's current key).
 */
export function verifyRotationRequest(input: unknown, check: RotationRequestCheck): RotationRequest {
  const parsed = rotationRequestSchema.safeParse(input)
  if (!parsed.success) throw new MalformedError(`malformed rotation request: ${parsed.error.issues[0]?.message}`)
  const { sig, ...body } = parsed.data
  const did = check.state.did
  if (body.did !== did) throw new MeshsigError('INVALID_INPUT', `the rotation request is for ${body.did}, not ${did}`)
  if (body.node !== check.node) {
    throw new MeshsigError('INVALID_INPUT', `the rotation request asks ${body.node}, not this node`, { did })
  }
  if (body.prev !== check.state.lastId) {
    throw new MeshsigError('KEL_INVALID', `the rotation request was made on another state of ${did}'s log`, { did })
  }
  if (Math.abs(body.ts - check.now) > check.maxSkewMs) {
    throw new ClockSkewError(`the rotation request's ts is outside ±${check.maxSkewMs} ms of this node's clock`)
  }
  if (!verifySignature(signingInput(body), fromB64(sig, 'sig', 64), fromB64(check.state.key, 'key', 32))) {
    throw new SignatureInvalidError(`the rotation request is not signed by the current key of ${did}`)
  }
  return parsed.data
}
