/**
 * The logic of the signature and message endpoints, independent of the HTTP
 * layer: both the Express routes and the fast path (fast-path.ts) call these
 * with the parsed JSON body and answer with what they return.
 */
import { signerOf } from '../node/core/acceptance.js'
import { fromB64, utf8 } from '../node/core/encoding.js'
import { MalformedError, MeshsigError } from '../node/core/errors.js'
import type { SignerKey } from '../node/services/key-service.js'
import type { IncomingMessage } from 'node:http'
import type { RouteContext } from './app.js'
import { auditClient } from './client-key.js'
import { auditRefusal } from './refusals.js'
import {
  conformingSendBody,
  messageVerifyBody,
  parseInput,
  refuseSecretAsIdentifier,
  sendBody,
  verifyBody,
} from './schemas.js'
import type { ApiMessageVerification, ApiSent, ApiVerification } from './types.js'

/** Result of checking a plain signature against a signer known to the node. */
interface PlainCheck {
  readonly valid: boolean
  readonly signer: SignerKey
  readonly code?: 'REVOKED' | 'ROTATED_KEY' | 'SIGNATURE_INVALID'
}

function signatureBytes(signature: string): Uint8Array {
  try {
    return fromB64(signature, 'signature', 64)
  } catch {
    throw new MalformedError('signature must be standard base64 of 64 bytes', { field: 'signature' })
  }
}

async function checkUnder(
  ctx: RouteContext,
  signer: SignerKey,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<PlainCheck> {
  if (signer.publicKey === null) return { valid: false, signer, code: 'REVOKED' }
  if (await ctx.verifier.verify(data, sig, signer.publicKey)) return { valid: true, signer }
  for (const old of signer.priorKeys) {
    if (await ctx.verifier.verify(data, sig, fromB64(old, 'key', 32)))
      return { valid: false, signer, code: 'ROTATED_KEY' }
  }
  return { valid: false, signer, code: 'SIGNATURE_INVALID' }
}

async function checkPlain(
  ctx: RouteContext,
  message: string,
  signature: string,
  identifier: string,
): Promise<PlainCheck> {
  const sig = signatureBytes(signature)
  const signer = ctx.node.signerKey(identifier)
  const check = await checkUnder(ctx, signer, utf8(message), sig)
  if (check.valid) ctx.metrics.signatureVerified()
  else ctx.metrics.signatureRejected(check.code ?? 'SIGNATURE_INVALID')
  return check
}

/** `POST /verify`: `{valid, message, signer, did, publicKey, keySource, verifiedAt, code?}`. */
export async function verifyHandler(ctx: RouteContext, body: unknown): Promise<ApiVerification> {
  const b = parseInput(verifyBody, body)
  const identifier = (b.did ?? b.publicKey ?? b.signer)!
  const check = await checkPlain(ctx, b.message, b.signature, identifier)
  const key = check.signer.publicKey
  return {
    valid: check.valid,
    message: b.message,
    signer: identifier,
    did: check.signer.did,
    publicKey: key ? Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64') : null,
    keySource: check.signer.source,
    verifiedAt: new Date().toISOString(),
    ...(check.code ? { code: check.code } : {}),
  }
}

/**
 * `POST /messages/send`: `{sent, verified, id, from, to, signature, ts, timestamp, envelope}`.
 * A pre-signed envelope or a `privateKey` proves itself; `fromDid` alone acts
 * as a custodied agent and needs its credential or the operator token.
 */
export async function sendHandler(ctx: RouteContext, body: unknown, req: IncomingMessage): Promise<ApiSent> {
  // parseInput refuses a private key given as a DID itself; the hand-checked form is checked here
  const fast = conformingSendBody(body)
  const b = fast !== undefined ? refuseSecretAsIdentifier(fast) : parseInput(sendBody, body)
  // the socket's address, a forwarded one apart: it is what trust counts the delivery against (decision 0090)
  const from = auditClient(req, ctx.opts)
  const sent =
    'envelope' in b
      ? await ctx.node.sendMessage({ envelope: b.envelope, ...from })
      : await auditRefusal(ctx, req, { action: 'messages.send', subject: b.fromDid }, (authority) =>
          ctx.node.sendMessage({ ...b, ...from, authority }),
        )
  const e = sent.envelope
  return {
    sent: true,
    verified: true,
    id: sent.id,
    from: e.from,
    to: e.to,
    signature: e.sig,
    ts: e.ts,
    timestamp: new Date(e.ts).toISOString(),
    envelope: e,
    ...(e.to !== null && !ctx.node.isRegistered(e.to) ? { warning: unknownRecipient(e.to, sent.id) } : {}),
  }
}

/** Said with a send to a DID this node's registry does not hold: a mistyped DID must not look delivered. */
function unknownRecipient(to: string, id: string): string {
  return (
    `no agent ${to} is in this node's registry (yet): the message is signed, stored and gossiped, and its ` +
    `delivery is tried for 24 h in case the agent registers or syncs; GET /messages/${id} shows where it stands`
  )
}

/** `POST /messages/verify`: a plain signature by a DID, or an envelope checked without storing it. */
export async function messageVerifyHandler(ctx: RouteContext, body: unknown): Promise<ApiMessageVerification> {
  const b = parseInput(messageVerifyBody, body)
  const verifiedAt = new Date().toISOString()
  if ('envelope' in b) {
    const { verdict: v, stored } = ctx.node.verifyEnvelope(b.envelope)
    const did = v.envelope ? signerOf(v.envelope) : null
    // a stored message stays valid after its sender rotates or its recipient is revoked; never once its sender
    // is revoked, whose key may have signed for a thief (docs/api.md)
    const asStored =
      stored !== undefined &&
      !stored.revokedSince.includes(did ?? '') &&
      (v.ok || v.error.code === 'ROTATED_KEY' || v.error.code === 'REVOKED')
    if (v.ok || asStored) {
      ctx.metrics.signatureVerified()
      const type = v.envelope!.type
      return { valid: true, did, id: v.id ?? null, type, verifiedAt, ...(stored ? { stored } : {}) }
    }
    ctx.metrics.signatureRejected(v.error.code)
    return { valid: false, did, id: v.id ?? null, code: v.error.code, error: v.error.message, verifiedAt }
  }
  if (!b.did.startsWith('did:')) throw new MeshsigError('INVALID_DID', 'did must be a did:msig or did:key DID')
  const check = await checkPlain(ctx, b.message, b.signature, b.did)
  const error = check.code === 'SIGNATURE_INVALID' ? { error: NOT_PLAIN } : {}
  return { valid: check.valid, did: b.did, verifiedAt, ...(check.code ? { code: check.code } : {}), ...error }
}

/**
 * Why a send's `signature` fails the plain form (attack review 105): a message is signed as an envelope
 * (docs/protocol.md §4), over its sender, recipient, time and nonce as well, never as bare text.
 */
const NOT_PLAIN =
  'not a plain signature of this message by this DID. The signature POST /messages/send answers is its ' +
  "envelope's: check it with {envelope}, which the send answers too (GET /messages/:id: message.envelope)"
