/**
 * Signatures and messages: `POST /verify` (plain signature, the public
 * verifier), `POST /messages/send` (three signing paths of SPEC §9) and
 * `POST /messages/verify`.
 */
import { Router, type Request } from 'express'
import { signerOf } from '../../node/core/acceptance.js'
import { fromB64, utf8 } from '../../node/core/encoding.js'
import { MalformedError, MeshsigError } from '../../node/core/errors.js'
import type { SignerKey } from '../../node/services/key-service.js'
import type { RouteContext } from '../app.js'
import { messageVerifyBody, parseInput, sendBody, verifyBody } from '../schemas.js'
import { requireToken } from '../security.js'

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

function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown'
}

/** Signature and message routes. */
export function messageRoutes(ctx: RouteContext): Router {
  const r = Router()
  const token = requireToken(ctx.opts)

  r.post('/verify', async (req, res) => {
    const b = parseInput(verifyBody, req.body)
    const identifier = (b.did ?? b.publicKey ?? b.signer)!
    const check = await checkPlain(ctx, b.message, b.signature, identifier)
    res.json({
      valid: check.valid,
      message: b.message,
      signer: identifier,
      did: check.signer.did,
      publicKey: check.signer.publicKey ? Buffer.from(check.signer.publicKey).toString('base64') : null,
      keySource: check.signer.source,
      verifiedAt: new Date().toISOString(),
      ...(check.code ? { code: check.code } : {}),
    })
  })

  r.post('/messages/send', token, async (req, res) => {
    const b = parseInput(sendBody, req.body)
    const client = clientOf(req)
    const sent = await ctx.node.sendMessage('envelope' in b ? { envelope: b.envelope, client } : { ...b, client })
    const e = sent.envelope
    res.json({
      sent: true,
      verified: true,
      id: sent.id,
      from: e.from,
      to: e.to,
      signature: e.sig,
      ts: e.ts,
      timestamp: new Date(e.ts).toISOString(),
      envelope: e,
    })
  })

  r.post('/messages/verify', async (req, res) => {
    const b = parseInput(messageVerifyBody, req.body)
    const verifiedAt = new Date().toISOString()
    if ('envelope' in b) {
      const v = ctx.node.checkEnvelope(b.envelope)
      if (!v.ok) ctx.metrics.signatureRejected(v.error.code)
      else ctx.metrics.signatureVerified()
      const did = v.envelope ? signerOf(v.envelope) : null
      res.json(
        v.ok
          ? { valid: true, did, id: v.id, type: v.envelope.type, verifiedAt }
          : { valid: false, did, id: v.id ?? null, code: v.error.code, error: v.error.message, verifiedAt },
      )
      return
    }
    if (!b.did.startsWith('did:')) throw new MeshsigError('INVALID_DID', 'did must be a did:msig or did:key DID')
    const check = await checkPlain(ctx, b.message, b.signature, b.did)
    res.json({ valid: check.valid, did: b.did, verifiedAt, ...(check.code ? { code: check.code } : {}) })
  })
  return r
}
