/**
 * The proxy's opt-in Web Bot Auth mode (docs/interop.md §1): which signatures
 * a forwarded request carries. Without it, the meshsig signature alone (SPEC
 * §7). With it, the WBA signature (label `sig1`, keyid = key thumbprint,
 * Signature-Agent = the operator's https origin), alone by default — Cloudflare's
 * reference verifier refuses a request with more than one signature — or
 * beside the meshsig one when `keepMeshsig` is set.
 */
import { MeshsigError, signRequest, type HttpRequestLike } from '../core/index.js'
import type { ProxySigner } from './signer-policy.js'
import { signWebBotAuth, wbaNonce, type WbaHeaders } from './web-bot-auth.js'
import { toB64 } from '../core/index.js'

/** How a proxy signs in WBA mode. */
export interface WbaProxyMode {
  /** The https origin whose `/.well-known/http-message-signatures-directory` lists the keys (Signature-Agent). */
  readonly agentOrigin: string
  /** Send the meshsig-tagged signature beside the WBA one (default false: WBA alone). */
  readonly keepMeshsig?: boolean
  /** `expires` - `created` of WBA signatures (ms); default 60 s. */
  readonly lifetimeMs?: number
  /** Cover the Signature-Agent member (`;key`) as the draft writes it, not the whole field (default false). */
  readonly memberKey?: boolean
}

/** Longest WBA signature lifetime accepted (the draft recommends at most 24 h). */
export const WBA_MAX_LIFETIME_MS = 24 * 3600_000

/**
 * Check a WBA mode: the agent origin must be an https origin (scheme, host,
 * optional port, nothing else); the lifetime 1 s to 24 h. Throws `INVALID_INPUT`.
 */
export function checkWbaMode(mode: WbaProxyMode): WbaProxyMode {
  let url: URL | undefined
  try {
    url = new URL(mode.agentOrigin)
  } catch {
    url = undefined
  }
  if (url === undefined || url.protocol !== 'https:' || url.origin !== mode.agentOrigin.replace(/\/$/, '')) {
    throw new MeshsigError(
      'INVALID_INPUT',
      'the Web Bot Auth agent origin must be an https origin such as https://agents.example.com (no path)',
    )
  }
  const lifetime = mode.lifetimeMs ?? 60_000
  if (!Number.isInteger(lifetime) || lifetime < 1000 || lifetime > WBA_MAX_LIFETIME_MS) {
    throw new MeshsigError('INVALID_INPUT', 'the Web Bot Auth signature lifetime must be 1 s to 24 h')
  }
  return { ...mode, agentOrigin: url.origin, lifetimeMs: lifetime }
}

/** What the forwarded request is signed with: the time, the randomness and the mode. */
export interface ForwardSigning {
  readonly now: number
  readonly random: (n: number) => Uint8Array
  readonly wba?: WbaProxyMode
}

function joinMembers(a: string, b: string): string {
  return `${a}, ${b}`
}

/**
 * The signature headers of a forwarded request (lowercase names): meshsig's
 * (docs/proxy.md), Web Bot Auth's, or both in one `Signature-Input` / `Signature`
 * dictionary. Throws `NO_IDENTITY` when WBA needs a public key the signer
 * does not give.
 */
export function signForwarded(
  request: HttpRequestLike,
  signer: ProxySigner,
  s: ForwardSigning,
): Record<string, string> {
  const meshsig = (): Record<string, string> => ({
    ...signRequest(request, { signer, keyid: signer.did, now: s.now, nonce: toB64(s.random(16)) }),
  })
  if (s.wba === undefined) return meshsig()
  if (signer.publicKey === undefined) {
    throw new MeshsigError('NO_IDENTITY', 'the proxy signer has no public key for a Web Bot Auth keyid')
  }
  const wba: WbaHeaders = signWebBotAuth(request, {
    key: { signer, publicKey: signer.publicKey },
    agentOrigin: s.wba.agentOrigin,
    now: s.now,
    nonce: wbaNonce(s.random),
    ...(s.wba.lifetimeMs !== undefined ? { lifetimeMs: s.wba.lifetimeMs } : {}),
    memberKey: s.wba.memberKey === true,
  })
  if (s.wba.keepMeshsig !== true) return { ...wba }
  const withAgent: HttpRequestLike = {
    ...request,
    headers: { ...request.headers, 'signature-agent': wba['signature-agent'] },
  }
  const m = signRequest(withAgent, { signer, keyid: signer.did, now: s.now, nonce: toB64(s.random(16)) })
  return {
    'content-digest': wba['content-digest'],
    'signature-agent': wba['signature-agent'],
    'signature-input': joinMembers(m['signature-input'], wba['signature-input']),
    signature: joinMembers(m.signature, wba.signature),
  }
}
