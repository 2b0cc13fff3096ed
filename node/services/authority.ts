/**
 * Who is calling the node, as the API proved it (docs/protocol.md §8).
 * Loopback is a place, not an identity: only the operator token (or the
 * explicit `trustLoopback` opt-in) makes a caller the operator, and only an
 * agent's own credential makes it that agent. A private key or a signed
 * envelope proves itself and needs no authority.
 */
import { MeshsigError } from '../core/errors.js'

/** The proven caller of an API request. */
export type Authority =
  | { readonly kind: 'operator'; readonly via: 'token' | 'loopback' }
  | { readonly kind: 'agent'; readonly did: string }
  | { readonly kind: 'anonymous' }

/** No proof of who is calling. */
export const ANONYMOUS: Authority = Object.freeze({ kind: 'anonymous' })

/** The operator (in process: the node's own CLI commands and tests). */
export const OPERATOR: Authority = Object.freeze({ kind: 'operator', via: 'token' })

/** How an action was authorised, as the audit log records it (`data.authority`). */
export type AuthorityLabel = 'operator' | 'loopback' | 'agent' | 'key' | 'envelope' | 'anonymous'

/** The audit label of an authority. */
export function authorityLabel(a: Authority): AuthorityLabel {
  if (a.kind === 'operator') return a.via === 'loopback' ? 'loopback' : 'operator'
  return a.kind
}

/** True when `a` may act as the agent `did` whose keys this node holds: the operator, or that agent itself. */
export function mayActFor(a: Authority, did: string): boolean {
  return a.kind === 'operator' || (a.kind === 'agent' && a.did === did)
}

/** True for the operator. */
export function isOperator(a: Authority): boolean {
  return a.kind === 'operator'
}

/**
 * Throw `UNAUTHORIZED` (no credential at all) or `FORBIDDEN` (another
 * agent's credential) unless `a` may act as `did`. `how` says what else
 * would prove the action.
 */
export function requireAgentAuthority(a: Authority, did: string, action: string, how: string): void {
  if (mayActFor(a, did)) return
  const code = a.kind === 'agent' ? 'FORBIDDEN' : 'UNAUTHORIZED'
  const who = a.kind === 'agent' ? `the credential presented belongs to ${a.did}, not ${did}` : 'no credential'
  throw new MeshsigError(
    code,
    `${action} as ${did} needs proof (${who}): send its agent credential or the operator token as ` +
      `Authorization: Bearer, or ${how}`,
    { did, action },
  )
}

/** Throw `UNAUTHORIZED` unless `a` is the operator. */
export function requireOperator(a: Authority, action: string): void {
  if (a.kind === 'operator') return
  throw new MeshsigError(
    a.kind === 'agent' ? 'FORBIDDEN' : 'UNAUTHORIZED',
    `${action} is an operator action: send the operator token (${'$'}MESHSIG_HOME/api-token) as Authorization: Bearer`,
    { action },
  )
}
