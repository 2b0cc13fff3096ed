/**
 * Proof that a server holds the API token before a client sends it
 * (docs/api.md, "The token goes only to its node"). On one host any user can
 * listen on a free loopback port (the node's own while it is down, or another
 * one named by mistake): loopback is a place, not an identity (SPEC §9). So
 * a client that takes the token from its meshsig home first sends `GET
 * /health` with a fresh random challenge and no token, and the node answers
 * HMAC-SHA256 under its token of the challenge and of the address and port
 * the request reached. The client checks it against the address and port it
 * connected to: a listener without the token cannot make it, and one that
 * relays the challenge to the real node gets a proof for the node's address,
 * not its own. Only then does the client send the token.
 *
 * An agent credential (`msag_…`) is proven the same way, under the one thing
 * the node keeps of it: its SHA-256 (hex). The client names the credential
 * by the first 16 hex digits of that hash (`X-Meshsig-Credential-Id`: 64 of
 * its 256 bits, and nothing of the credential), and the node answers the HMAC
 * under the whole hash, with a domain of its own, while the credential's
 * agent is live (docs/api.md, "The token goes only to its node").
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { utf8 } from '../node/core/encoding.js'
import { sha256Hex } from '../node/core/keys.js'

/** Request header carrying the client's challenge (b64url of 32 random bytes). */
export const TOKEN_CHALLENGE_HEADER = 'x-meshsig-token-challenge'
/** Response header carrying the proof (b64url of the HMAC). */
export const TOKEN_PROOF_HEADER = 'x-meshsig-token-proof'
/** Request header naming the agent credential to prove (16 hex digits of its SHA-256). */
export const CREDENTIAL_ID_HEADER = 'x-meshsig-credential-id'

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const CREDENTIAL_ID = /^[0-9a-f]{16}$/
const TOKEN_DOMAIN = 'meshsig/v1/token-proof'
const CREDENTIAL_DOMAIN = 'meshsig/v1/credential-proof'

/** What a proof is made under: the operator token itself, or an agent credential's SHA-256 (hex). */
export interface ProofKey {
  readonly domain: typeof TOKEN_DOMAIN | typeof CREDENTIAL_DOMAIN
  readonly key: string
}

/** True when `bearer` is an agent credential (docs/protocol.md §8), proven by its hash, not the operator token. */
export function isAgentCredential(bearer: string): boolean {
  return bearer.startsWith('msag_')
}

/** The key a proof of `bearer` is made under, and the credential id a client names it by (none for the token). */
export function proofKeyOf(bearer: string): { readonly proofKey: ProofKey; readonly credentialId?: string } {
  if (!isAgentCredential(bearer)) return { proofKey: { domain: TOKEN_DOMAIN, key: bearer } }
  const hash = sha256Hex(utf8(bearer)) // as the node keeps it (node/services/agent-credentials.ts)
  return { proofKey: { domain: CREDENTIAL_DOMAIN, key: hash }, credentialId: hash.slice(0, 16) }
}

/** The address a connection reached, as both sides spell it: IPv4-mapped IPv6 as IPv4, no brackets, lower case. */
export function endpointOf(host: string, port: number): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (h.startsWith('::ffff:') && h.includes('.')) h = h.slice('::ffff:'.length)
  return `${h} ${port}`
}

/** HMAC-SHA256 under the operator token of the domain, the endpoint and the challenge (b64url). */
export function tokenProof(token: string, endpoint: string, challenge: string): string {
  return proofUnder({ domain: TOKEN_DOMAIN, key: token }, endpoint, challenge)
}

/** HMAC-SHA256 under `k.key` of `k.domain`, the endpoint and the challenge (b64url). */
export function proofUnder(k: ProofKey, endpoint: string, challenge: string): string {
  return createHmac('sha256', k.key).update(`${k.domain}\n${endpoint}\n${challenge}`).digest('base64url')
}

/** A fresh challenge. */
export function newChallenge(): string {
  return randomBytes(32).toString('base64url')
}

/** True when `proof` (a response header) is the proof under `k` for `endpoint` and `challenge`. */
export function proofMatches(proof: string | null, k: ProofKey, endpoint: string, challenge: string): boolean {
  if (proof === null) return false
  const want = Buffer.from(proofUnder(k, endpoint, challenge))
  const got = Buffer.from(proof)
  return got.length === want.length && timingSafeEqual(got, want)
}

/** The SHA-256 (hex) of the live agent credential a credential id names, or undefined. */
export type CredentialHashById = (id: string) => string | undefined

/**
 * On a `/health` answer: the proof for the challenge the request carries.
 * With a credential id, under that credential's hash when `credentialHash`
 * knows it live (none before the node is up); else under the node's token,
 * when it has one.
 */
export function answerTokenChallenge(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  credentialHash?: CredentialHashById,
): void {
  const challenge = req.headers[TOKEN_CHALLENGE_HEADER]
  if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) return
  const key = keyAsked(req.headers[CREDENTIAL_ID_HEADER], token, credentialHash)
  const { localAddress, localPort } = req.socket
  if (key === undefined || localAddress === undefined || localPort === undefined) return
  res.setHeader(TOKEN_PROOF_HEADER, proofUnder(key, endpointOf(localAddress, localPort), challenge))
}

function keyAsked(
  id: string | string[] | undefined,
  token: string | undefined,
  credentialHash: CredentialHashById | undefined,
): ProofKey | undefined {
  if (id === undefined) return token === undefined ? undefined : { domain: TOKEN_DOMAIN, key: token }
  if (typeof id !== 'string' || !CREDENTIAL_ID.test(id)) return undefined
  const hash = credentialHash?.(id)
  return hash === undefined ? undefined : { domain: CREDENTIAL_DOMAIN, key: hash }
}
