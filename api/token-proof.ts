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
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Request header carrying the client's challenge (b64url of 32 random bytes). */
export const TOKEN_CHALLENGE_HEADER = 'x-meshsig-token-challenge'
/** Response header carrying the proof (b64url of the HMAC). */
export const TOKEN_PROOF_HEADER = 'x-meshsig-token-proof'

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/

/** The address a connection reached, as both sides spell it: IPv4-mapped IPv6 as IPv4, no brackets, lower case. */
export function endpointOf(host: string, port: number): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (h.startsWith('::ffff:') && h.includes('.')) h = h.slice('::ffff:'.length)
  return `${h} ${port}`
}

/** HMAC-SHA256 under `token` of the domain, the endpoint and the challenge (b64url). */
export function tokenProof(token: string, endpoint: string, challenge: string): string {
  return createHmac('sha256', token).update(`meshsig/v1/token-proof\n${endpoint}\n${challenge}`).digest('base64url')
}

/** A fresh challenge. */
export function newChallenge(): string {
  return randomBytes(32).toString('base64url')
}

/** True when `proof` (a response header) is the proof of `token` for `endpoint` and `challenge`. */
export function proofMatches(proof: string | null, token: string, endpoint: string, challenge: string): boolean {
  if (proof === null) return false
  const want = Buffer.from(tokenProof(token, endpoint, challenge))
  const got = Buffer.from(proof)
  return got.length === want.length && timingSafeEqual(got, want)
}

/** On a `/health` answer: the proof for the challenge the request carries, when the node has a token. */
export function answerTokenChallenge(req: IncomingMessage, res: ServerResponse, token: string | undefined): void {
  const challenge = req.headers[TOKEN_CHALLENGE_HEADER]
  if (token === undefined || typeof challenge !== 'string' || !CHALLENGE.test(challenge)) return
  const { localAddress, localPort } = req.socket
  if (localAddress === undefined || localPort === undefined) return
  res.setHeader(TOKEN_PROOF_HEADER, tokenProof(token, endpointOf(localAddress, localPort), challenge))
}
