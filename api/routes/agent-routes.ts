/**
 * Agents: registration (node-generated keys, or bring your own key with a
 * signed inception and registration), rotation and revocation (proof
 * required; see node/services/key-service.ts), key state and recorded
 * duplicity (`GET /keys/:did`, `GET /duplicity`) and local discovery.
 */
import { Router, type Request } from 'express'
import { publicKeyFromIdentifier } from '../../node/core/did.js'
import { toB64 } from '../../node/core/encoding.js'
import { parseEnvelope, type IcpEnvelope, type RegEnvelope } from '../../node/core/envelope.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { RouteContext } from '../app.js'
import { discoverBody, duplicityQuery, parseInput, registerBody, revokeBody, rotateBody } from '../schemas.js'
import { pageOf } from '../list-page.js'
import { LIST_PAGE_DEFAULT, LIST_PAGE_MAX } from '../../node/limits.js'
import type { Authority } from '../../node/services/authority.js'
import { auditClient } from '../client-key.js'
import { auditRefusal } from '../refusals.js'
import { requireToken } from '../security.js'
import type { ApiAgentList, ApiDuplicityList, ApiRegistered, ApiRevoked, ApiRotated } from '../types.js'

type RegisterInput = ReturnType<typeof registerBody.parse>

function sameCapabilities(
  a: readonly { type: string; confidence?: number }[],
  b: readonly { type: string; confidence?: number }[],
): boolean {
  return (
    JSON.stringify(a.map((c) => [c.type, c.confidence ?? null])) ===
    JSON.stringify(b.map((c) => [c.type, c.confidence ?? null]))
  )
}

/** Check a bring-your-own-key proof against the request and this node; returns the typed envelopes. */
function checkProof(ctx: RouteContext, b: RegisterInput): { icp: IcpEnvelope; reg: RegEnvelope } {
  const icp = parseEnvelope(b.proof!.icp)
  const reg = parseEnvelope(b.proof!.reg)
  if (icp.type !== 'icp')
    throw new MeshsigError('INVALID_INPUT', 'proof.icp must be an icp envelope', { field: 'proof.icp' })
  if (reg.type !== 'reg')
    throw new MeshsigError('INVALID_INPUT', 'proof.reg must be a reg envelope', { field: 'proof.reg' })
  if (toB64(publicKeyFromIdentifier(b.publicKey!)) !== icp.key) {
    throw new MeshsigError('KEY_MISMATCH', 'publicKey is not the key of proof.icp', { field: 'publicKey' })
  }
  if (reg.did !== icp.did)
    throw new MeshsigError('INVALID_INPUT', 'proof.reg names another DID than proof.icp', { field: 'proof.reg.did' })
  if (reg.name !== b.name)
    throw new MeshsigError('INVALID_INPUT', 'proof.reg.name differs from name', { field: 'proof.reg.name' })
  if (b.capabilities !== undefined && !sameCapabilities(b.capabilities, reg.capabilities)) {
    throw new MeshsigError('INVALID_INPUT', 'proof.reg.capabilities differ from capabilities', {
      field: 'proof.reg.capabilities',
    })
  }
  const info = ctx.node.info()
  if (reg.controller !== info.did || reg.peerId !== info.peerId) {
    throw new MeshsigError(
      'INVALID_INPUT',
      'proof.reg must name this node as controller and peerId (see GET /health)',
      {
        field: 'proof.reg.controller',
      },
    )
  }
  return { icp, reg }
}

/** `POST /agents/register` (custodied keys, or bring-your-own-key with a proof); Express and the fast path share it. */
export async function registerHandler(ctx: RouteContext, body: unknown): Promise<ApiRegistered> {
  const b = parseInput(registerBody, body)
  if (b.proof === undefined) {
    const { identity, record } = await ctx.node.registerAgent(b.name, b.capabilities ?? [])
    return { identity, record }
  }
  const { icp, reg } = checkProof(ctx, b)
  const record = await ctx.node.registerExternalAgent(icp, reg)
  return { identity: { did: record.did, publicKey: icp.key, createdAt: record.createdAt }, record }
}

function didOf(b: { did?: string | undefined; envelope?: Record<string, unknown> | undefined }): string {
  return b.did ?? String(b.envelope?.did ?? '')
}

/** Who asks for a key change: the DID, the caller's authority, the client's socket address (a forwarded one apart). */
interface KeyChangeCaller {
  readonly did: string
  readonly authority: Authority
  readonly client: string
  readonly forwardedFor?: string
}

/** Run a key change of `did` with the caller's authority; a refusal for want of authority is audited. */
function keyChange<T>(
  ctx: RouteContext,
  req: Request,
  action: string,
  did: string,
  run: (caller: KeyChangeCaller) => Promise<T>,
): Promise<T> {
  // the socket's address, never a forwarded claim, is the client trust counts (decision 0090)
  const from = auditClient(req, ctx.opts)
  return auditRefusal(ctx, req, { action, subject: did }, (authority) => run({ did, authority, ...from }))
}

async function rotate(ctx: RouteContext, req: Request): Promise<ApiRotated> {
  const b = parseInput(rotateBody, req.body)
  const rotation = await keyChange(ctx, req, 'agents.rotate-key', didOf(b), (caller) =>
    ctx.node.rotateAgent({
      ...caller,
      envelope: b.envelope,
      registration: b.registration,
      keyProof: b.keyProof,
      currentPrivateKey: b.currentPrivateKey,
      nextPrivateKey: b.nextPrivateKey,
    }),
  )
  // the re-signed registration is gossiped by the node; the answer stays the rotation
  const { envelope, registration: _registration, ...rest } = rotation
  const record = ctx.node.agentRecord(rotation.did) ?? null
  return { rotated: true, ...rest, rotatedAt: new Date(envelope.ts).toISOString(), envelope, record }
}

async function revoke(ctx: RouteContext, req: Request): Promise<ApiRevoked> {
  const b = parseInput(revokeBody, req.body)
  const rev = await keyChange(ctx, req, 'agents.revoke', didOf(b), (caller) =>
    ctx.node.revokeAgent({
      ...caller,
      reason: b.reason ?? 'unspecified',
      envelope: b.envelope,
      privateKey: b.privateKey,
    }),
  )
  return {
    revoked: true,
    did: rev.did,
    reason: rev.reason,
    revokedAt: new Date(rev.ts).toISOString(),
    keySeq: rev.seq,
    final: ctx.node.signerKey(rev.did).revoked,
    envelope: rev,
  }
}

/** Agent routes. */
export function agentRoutes(ctx: RouteContext): Router {
  const r = Router()
  const token = requireToken(ctx.opts, ctx.resolveCredential)
  r.post('/agents/register', token, async (req, res) => {
    res.status(201).json(await registerHandler(ctx, req.body))
  })
  r.post('/agents/rotate-key', token, async (req, res) => {
    res.json(await rotate(ctx, req))
  })
  r.post('/agents/revoke', token, async (req, res) => {
    res.json(await revoke(ctx, req))
  })
  r.get('/keys/:did', (req, res) => {
    res.json(ctx.node.keyView(String(req.params.did)))
  })
  // a page, never every row (attack review H3-3): `limit` (default LIST_PAGE_DEFAULT, at most LIST_PAGE_MAX) from
  // `cursor` on; `next` is the cursor of the rest (docs/api.md `GET /duplicity`)
  r.get('/duplicity', (req, res) => {
    const q = parseInput(duplicityQuery, { ...req.query }, 'query')
    const limit = Math.min(q.limit ?? LIST_PAGE_DEFAULT, LIST_PAGE_MAX)
    const read = ctx.node.duplicityPage(limit + 1, q.cursor)
    const { rows, next } = pageOf(read.rows, limit, (d) => d.conflictingId)
    res.json({ duplicity: rows, total: read.total, next } satisfies ApiDuplicityList)
  })
  r.post('/discover', (req, res) => {
    const b = parseInput(discoverBody, req.body)
    const agents = ctx.node.discoverAgents(b.capability, b.minConfidence ?? 0, b.limit ?? 50)
    // "format": "a2a": also the signed cards of the hosted agents among them (docs/interop.md §2)
    const cards = b.format === 'a2a' ? ctx.node.agentCards(agents.map((a) => a.did)) : undefined
    res.json({ agents, total: agents.length, ...(cards ? { cards } : {}) } satisfies ApiAgentList)
  })
  return r
}
