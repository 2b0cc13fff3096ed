/**
 * Wire shapes of the handshake protocol (`/meshsig/handshake/1.0.0`), JSON:
 * a `challenge` (the initiator's fresh nonce), answered with the responder's
 * signed proof; then a `confirm` carrying the whole transcript, answered with
 * the connection id. Strict: unknown fields are malformed.
 */
import * as z from 'zod'
import { b64Field, canonicalize, domainSigningInput, sha256Hex, toB64, utf8, type KeyPair } from '../core/index.js'

const did = z
  .string()
  .max(128)
  .regex(/^did:msig:[1-9A-HJ-NP-Za-km-z]+$/)
const nonce = b64Field(16) // canonical: one spelling (docs/protocol.md §1), echoed and compared as text
const ts = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/**
 * One side's signed statement: "I am `did`, talking to `peer`; here is your
 * `challenge` back and my own `nonce`". Signed by `did`'s current key over
 * `0xFF || UTF-8("meshsig/v1/hs\n") || JCS(proof without sig)`.
 */
export const proofSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('hs'),
  role: z.enum(['initiator', 'responder']),
  did,
  peer: did,
  challenge: nonce,
  nonce,
  ts,
  sig: b64Field(64),
})

/** A responder's answer to a `challenge`: `{proof}`; anything else (null, an array, no proof) is malformed. */
export const challengeAnswerSchema = z.object({ proof: proofSchema })

/** A signed handshake statement. */
export type HandshakeProof = z.infer<typeof proofSchema>

/** Both signed statements of one handshake: what a connection record keeps. */
export const transcriptSchema = z.strictObject({
  v: z.literal(1),
  initiator: proofSchema,
  responder: proofSchema,
})

/** The transcript of a completed handshake. */
export type HandshakeTranscript = z.infer<typeof transcriptSchema>

/** A request on the handshake protocol. */
export const handshakeWireSchema = z.discriminatedUnion('step', [
  z.strictObject({ step: z.literal('challenge'), from: did, to: did, nonce, ts }),
  z.strictObject({ step: z.literal('confirm'), transcript: transcriptSchema }),
])

/** Bytes a handshake proof's signature covers: 0xFF, 'meshsig/v1/hs\n', then JCS (docs/protocol.md §4). */
export function proofBytes(proof: Omit<HandshakeProof, 'sig'> | HandshakeProof): Uint8Array {
  const { sig: _sig, ...body } = proof as HandshakeProof
  return domainSigningInput('hs', canonicalize(body))
}

/** Sign a handshake statement. */
export function signProof(body: Omit<HandshakeProof, 'sig'>, key: KeyPair): HandshakeProof {
  return { ...body, sig: toB64(key.sign(proofBytes(body))) }
}

/** Id of a connection: hex SHA-256 of the JCS of its transcript (the same on both nodes that stored it). */
export function connectionId(t: HandshakeTranscript): string {
  return sha256Hex(utf8(canonicalize(t)))
}
