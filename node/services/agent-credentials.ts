/**
 * Agent credentials (docs/protocol.md §8): a bearer secret issued once when
 * a custodied agent is registered. Presenting it lets a caller act as that
 * agent (send, handshake, rotate, revoke) and as nothing else. The node keeps
 * only its SHA-256, so neither the database nor the audit log can leak it.
 */
import { sha256Hex, utf8 } from '../core/index.js'
import type { CredentialsRepo } from '../store/index.js'

/** Prefix of every agent credential (recognisable to secret scanners). */
export const CREDENTIAL_PREFIX = 'msag_'
/** Random bytes in a credential. */
const CREDENTIAL_BYTES = 32
const CREDENTIAL_RE = /^msag_[A-Za-z0-9_-]{43}$/
const CREDENTIAL_ID_RE = /^[0-9a-f]{16}$/

/** What the credential service needs. */
export interface AgentCredentialsComponents {
  readonly credentials: CredentialsRepo
  readonly random: (n: number) => Uint8Array
  readonly clock: () => number
}

/** True when `text` has the shape of an agent credential. */
export function looksLikeCredential(text: string): boolean {
  return CREDENTIAL_RE.test(text)
}

function hashOf(credential: string): string {
  return sha256Hex(utf8(credential))
}

/** Issues and resolves agent credentials. */
export class AgentCredentials {
  constructor(private readonly c: AgentCredentialsComponents) {}

  /** Make a credential for `did`, keep its hash, and return it (shown once). Call inside the registration's transaction. */
  issue(did: string): string {
    const credential = CREDENTIAL_PREFIX + Buffer.from(this.c.random(CREDENTIAL_BYTES)).toString('base64url')
    this.c.credentials.add(hashOf(credential), did, this.c.clock())
    return credential
  }

  /** The DID a presented credential acts for, or undefined for an unknown or malformed one. */
  resolve(credential: string): string | undefined {
    if (!looksLikeCredential(credential)) return undefined
    return this.c.credentials.didOf(hashOf(credential))
  }

  /**
   * The hash and DID of the one credential whose hash starts with `id` (16
   * lower-case hex digits; the credential id a client proves the node by,
   * api/token-proof.ts), or undefined.
   */
  byId(id: string): { readonly hash: string; readonly did: string } | undefined {
    if (!CREDENTIAL_ID_RE.test(id)) return undefined
    const hash = this.c.credentials.hashStartingWith(id)
    const did = hash === undefined ? undefined : this.c.credentials.didOf(hash)
    return hash === undefined || did === undefined ? undefined : { hash, did }
  }

  /** Forget every credential of `did` (its revocation is final). */
  forget(did: string): void {
    this.c.credentials.forget(did)
  }
}
