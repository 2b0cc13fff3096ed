/**
 * A2A v1 agent cards for the agents a node hosts (docs/interop.md §2): name,
 * description, skills from the agent's registered capabilities, the endpoint
 * its operator configures, signed as the A2A specification describes (§8.4:
 * a JWS over the JCS form of the card without `signatures`; protected header
 * `alg` EdDSA, `typ` JOSE, `kid`). The `kid` names the agent's did:msig and
 * the key: `did:msig:…#<RFC 7638 thumbprint>`, so a verifier follows the DID's
 * key event log: a card signed by a rotated-out key or a revoked DID fails.
 *
 * The card is built in the A2A normal form (no empty arrays or objects, no
 * default values), so its JCS text is what the A2A SDKs canonicalise it to.
 * Pure: keys come in as signers and lookups.
 */
import { canonicalize } from './canonical.js'
import { toMsigDid } from './did.js'
import { MalformedError, MeshsigError, SignatureInvalidError } from './errors.js'
import { jwkThumbprint } from './jwk.js'
import { jwsHeader, signJws, verifyJws, type JwsSignature, type JwsSigner } from './a2a-jws.js'

/** The A2A protocol version the cards declare. */
export const A2A_PROTOCOL_VERSION = '1.0'
/** The extension URI under which a card names its meshsig DID. */
export const MESHSIG_A2A_EXTENSION = 'https://meshsig.dev/a2a/did/v1'

/** One skill of a card (A2A `AgentSkill`), made from a registered capability. */
export interface A2aSkill {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly tags: readonly string[]
}

/** An A2A v1 agent card as meshsig writes it (a subset of A2A `AgentCard`). */
export interface A2aAgentCard {
  readonly name: string
  readonly description: string
  readonly supportedInterfaces?: readonly { url: string; protocolBinding: string; protocolVersion: string }[]
  readonly provider?: { readonly url: string; readonly organization: string }
  readonly version: string
  readonly capabilities: { readonly extensions: readonly Record<string, unknown>[] }
  readonly defaultInputModes: readonly string[]
  readonly defaultOutputModes: readonly string[]
  readonly skills?: readonly A2aSkill[]
  readonly signatures?: readonly JwsSignature[]
}

/** What a card is made of. */
export interface A2aCardInput {
  readonly did: string
  readonly name: string
  readonly capabilities: readonly { readonly type: string; readonly confidence?: number }[]
  /** The A2A endpoint the operator configured for this agent (JSON-RPC binding), if any. */
  readonly endpoint?: string
  /** The hosting node's name and public origin, as the card's provider. */
  readonly provider?: { readonly url: string; readonly organization: string }
  /** The agent's version string (default "1"). */
  readonly version?: string
}

/** The unsigned card of an agent, in the A2A normal form. */
export function buildAgentCard(input: A2aCardInput): A2aAgentCard {
  const skills = input.capabilities.map((c) => ({
    id: c.type,
    name: c.type,
    description: `meshsig capability ${c.type}` + (c.confidence === undefined ? '' : ` (confidence ${c.confidence})`),
    tags: [c.type],
  }))
  return {
    name: input.name,
    description: `meshsig agent ${input.name} (${input.did})`,
    ...(input.endpoint
      ? {
          supportedInterfaces: [
            { url: input.endpoint, protocolBinding: 'JSONRPC', protocolVersion: A2A_PROTOCOL_VERSION },
          ],
        }
      : {}),
    ...(input.provider ? { provider: input.provider } : {}),
    version: input.version ?? '1',
    capabilities: {
      extensions: [{ uri: MESHSIG_A2A_EXTENSION, description: 'meshsig identity', params: { did: input.did } }],
    },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    ...(skills.length > 0 ? { skills } : {}),
  }
}

/** The JCS text a card's signatures cover: the card without `signatures` (A2A §8.4.1). */
export function agentCardPayload(card: A2aAgentCard): string {
  const { signatures: _omit, ...rest } = card
  return canonicalize(rest)
}

/** The `kid` of a card signature: `did:msig:…#<thumbprint of the signing key>`. */
export function agentCardKid(did: string, publicKey: Uint8Array): string {
  return `${did}#${jwkThumbprint(publicKey)}`
}

/** Sign `card` with the agent's current key; returns the card with that one signature. */
export function signAgentCard(
  card: A2aAgentCard,
  key: { readonly did: string; readonly publicKey: Uint8Array; readonly signer: JwsSigner },
): A2aAgentCard {
  const header = { typ: 'JOSE', kid: agentCardKid(key.did, key.publicKey) }
  return { ...card, signatures: [signJws(agentCardPayload(card), header, key.signer)] }
}

/** A DID's key as a verifier knows it: its current key, or revoked. */
export interface CardSignerKey {
  readonly publicKey: Uint8Array | null
  readonly revoked: boolean
}

/** The outcome of `verifyAgentCard`: the DID that signed, or the reason it fails. */
export type AgentCardVerdict =
  | { readonly ok: true; readonly did: string; readonly kid: string }
  | { readonly ok: false; readonly error: MeshsigError }

function kidParts(kid: unknown): { did: string; thumbprint: string } {
  const text = typeof kid === 'string' ? kid : ''
  const hash = text.indexOf('#')
  if (hash < 0) throw new MalformedError('the card signature kid must be did:msig:…#<thumbprint>')
  let did: string
  try {
    did = toMsigDid(text.slice(0, hash))
  } catch {
    throw new MalformedError('the card signature kid does not name a DID')
  }
  if (did !== text.slice(0, hash)) throw new MalformedError('the card signature kid must name a did:msig')
  return { did, thumbprint: text.slice(hash + 1) }
}

async function verifyOne(
  card: A2aAgentCard,
  sig: JwsSignature,
  resolve: (did: string) => CardSignerKey | undefined | Promise<CardSignerKey | undefined>,
): Promise<{ did: string; kid: string }> {
  const header = jwsHeader(sig)
  const { did, thumbprint } = kidParts(header.kid)
  const key = await resolve(did)
  if (key === undefined) throw new MeshsigError('UNKNOWN_SIGNER', `unknown signer ${did}`)
  if (key.revoked || key.publicKey === null) throw new MeshsigError('REVOKED', `${did} is revoked: it has no card`)
  if (jwkThumbprint(key.publicKey) !== thumbprint) {
    throw new MeshsigError('ROTATED_KEY', `the card is signed by a key that is not the current key of ${did}`)
  }
  if (!verifyJws(agentCardPayload(card), sig, key.publicKey)) throw new SignatureInvalidError()
  return { did, kid: String(header.kid) }
}

/**
 * Verify a card's signature under the current key of the DID its `kid`
 * names (`resolve`: from a node's `GET /keys/:did`, following rotations).
 * Error codes: MALFORMED, UNKNOWN_SIGNER, REVOKED, ROTATED_KEY,
 * SIGNATURE_INVALID. Never throws a MeshsigError.
 */
export async function verifyAgentCard(
  card: A2aAgentCard,
  resolve: (did: string) => CardSignerKey | undefined | Promise<CardSignerKey | undefined>,
): Promise<AgentCardVerdict> {
  try {
    const sigs = Array.isArray(card.signatures) ? card.signatures : []
    if (sigs.length !== 1) throw new MalformedError('a meshsig card carries exactly one signature')
    return { ok: true, ...(await verifyOne(card, sigs[0] as JwsSignature, resolve)) }
  } catch (err) {
    if (err instanceof MeshsigError) return { ok: false, error: err }
    throw err
  }
}
