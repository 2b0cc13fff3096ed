/**
 * What a node publishes for other ecosystems (docs/interop.md): the Web Bot
 * Auth key directory of the keys its proxy signs with (§1), and the A2A agent
 * cards of the agents it hosts (§2). Both are computed on each request from
 * the node's key event logs, so a rotation shows at once and a revoked DID's
 * key and card are gone at once (the node's own card is signed again only
 * when its key or content changed: decision 0081). Keys stay in the node:
 * this asks it for signers, never for seeds.
 */
import {
  MeshsigError,
  buildAgentCard,
  isMeshsigError,
  signAgentCard,
  type A2aAgentCard,
  type Capability,
} from '../core/index.js'
import type { ProxySigner } from './signer-policy.js'
import { signDirectoryResponse, wbaDirectory, type WbaDirectoryKey, type WbaKey } from './web-bot-auth.js'
import { checkWbaMode, type WbaProxyMode } from './web-bot-auth-proxy.js'

/** What interop needs of a node (MeshNode has these). */
export interface InteropHost {
  readonly did: string
  readonly name: string
  /** The node's or a custodied agent's signer; undefined when no key is held. Throws REVOKED. */
  proxySigner(did?: string): ProxySigner | undefined
  /** The public key a DID's log commits to as its next key, when this node holds it (pre-rotation). */
  proxyNextKey(did?: string): Uint8Array | undefined
  /** One agent's record by DID (one row; never a list of the hosted agents: review 116). */
  readonly agents: {
    record(did: string): { name: string; origin: string; capabilities: readonly Capability[] } | undefined
  }
  /**
   * The capability types the node announces (capability-provides.ts): at most
   * `limits.discovery.providedTypes`, its oldest own agents' first (decision 0059).
   */
  announcedTypes(): readonly string[]
}

/** How long a fetched directory may be cached (s), and how long its keys' `exp` and signatures last. */
export const WBA_DIRECTORY_MAX_AGE_S = 300
const DIRECTORY_VALIDITY_MS = 3600_000

/** The A2A settings of a node: its public https origin and each agent's A2A endpoint. */
export interface A2aSettings {
  /** The https origin where the operator exposes this node's well-known documents. */
  readonly publicUrl?: string
  /** Agent DID → the A2A endpoint (JSON-RPC) its operator configured. */
  readonly endpoints?: ReadonlyMap<string, string>
}

/** A directory response: body and headers (signed). */
export interface DirectoryResponse {
  readonly body: string
  readonly headers: Record<string, string>
}

/** The node's interop publications. */
export class Interop {
  /** The last node card signed and what it was built from (one entry: cache-bounds.ts `nodeCard`). */
  private signedNodeCard: { key: string; card: A2aAgentCard } | undefined
  private wba: { signers: readonly string[]; mode: WbaProxyMode; since: number } | undefined
  private a2a: A2aSettings = {}

  constructor(private readonly host: InteropHost) {}

  /** Publish the keys of `signers` (DIDs the proxy signs as) in the key directory. */
  publishWebBotAuth(signers: readonly string[], mode: WbaProxyMode, now: number): void {
    this.wba = { signers: [...new Set(signers)], mode: checkWbaMode(mode), since: now }
  }

  /** Stop publishing the key directory (the proxy stopped). */
  withdrawWebBotAuth(): void {
    this.wba = undefined
  }

  /** Set the A2A settings (public origin, endpoints). */
  configureA2a(settings: A2aSettings): void {
    this.a2a = settings
  }

  private signer(did: string): ProxySigner | undefined {
    try {
      return this.host.proxySigner(did)
    } catch (err) {
      if (isMeshsigError(err) && err.code === 'REVOKED') return undefined // a revoked DID's key leaves at once
      throw err
    }
  }

  /**
   * The key directory (draft §"Directory Format"): each signer's current key
   * and, where the node holds it, its committed next key, so a rotation
   * publishes the new key before the old one leaves. The response is signed
   * by every current key. Undefined when WBA mode is off.
   */
  keyDirectory(authority: string, now: number): DirectoryResponse | undefined {
    if (this.wba === undefined) return undefined
    const listed: WbaDirectoryKey[] = []
    const signing: WbaKey[] = []
    const exp = now + DIRECTORY_VALIDITY_MS
    for (const did of this.wba.signers) {
      const signer = this.signer(did)
      if (signer?.publicKey === undefined) continue
      signing.push({ signer, publicKey: signer.publicKey })
      listed.push({ publicKey: signer.publicKey, nbf: this.wba.since, exp })
      const next = this.host.proxyNextKey(did)
      if (next !== undefined) listed.push({ publicKey: next, nbf: this.wba.since, exp })
    }
    const body = JSON.stringify(wbaDirectory(listed))
    const lifetimeMs = DIRECTORY_VALIDITY_MS
    return { body, headers: signDirectoryResponse({ authority, body, keys: signing, now, lifetimeMs }) }
  }

  private provider(): { url: string; organization: string } | undefined {
    return this.a2a.publicUrl ? { url: this.a2a.publicUrl, organization: this.host.name } : undefined
  }

  /**
   * The signed A2A card of an agent this node hosts and holds the key of.
   * Throws `NOT_FOUND` for another DID, `REVOKED` for a revoked one.
   */
  agentCard(did: string): A2aAgentCard {
    // by its DID: listing the hosted agents per card made `format: "a2a"` cost found × hosted rows (review 116)
    const record = this.host.agents.record(did)
    const agent = record?.origin === 'local' ? record : undefined
    if (agent === undefined) throw new MeshsigError('NOT_FOUND', `no agent ${did.slice(0, 128)} is hosted here`)
    const signer = this.host.proxySigner(did)
    if (signer?.publicKey === undefined) {
      throw new MeshsigError('NOT_FOUND', `this node does not hold the key of ${did}: it cannot sign its card`)
    }
    const endpoint = this.a2a.endpoints?.get(did)
    const provider = this.provider()
    const card = buildAgentCard({
      did,
      name: agent.name,
      capabilities: agent.capabilities,
      ...(endpoint ? { endpoint } : {}),
      ...(provider ? { provider } : {}),
    })
    return signAgentCard(card, { did, publicKey: signer.publicKey, signer })
  }

  /**
   * The node's own card: its name, and as skills the capability types it
   * announces (decision 0059: bounded, oldest own agents' first; docs/interop.md
   * §2), signed by the node key. Signed again only when what it is built from
   * changed; otherwise the last signed card is served (decision 0081).
   */
  nodeCard(): A2aAgentCard {
    const signer = this.host.proxySigner()
    if (signer?.publicKey === undefined) throw new MeshsigError('NO_IDENTITY', 'the node has no key')
    const types = this.host.announcedTypes()
    const endpoint = this.a2a.endpoints?.get(this.host.did)
    const provider = this.provider()
    const key = JSON.stringify([
      this.host.did,
      this.host.name,
      Buffer.from(signer.publicKey).toString('base64'),
      endpoint ?? null,
      provider ?? null,
      types,
    ])
    if (this.signedNodeCard?.key === key) return this.signedNodeCard.card
    const card = buildAgentCard({
      did: this.host.did,
      name: this.host.name,
      capabilities: types.map((type) => ({ type })),
      ...(endpoint ? { endpoint } : {}),
      ...(provider ? { provider } : {}),
    })
    const signed = signAgentCard(card, { did: this.host.did, publicKey: signer.publicKey, signer })
    this.signedNodeCard = { key, card: signed }
    return signed
  }

  /** Cards of the hosted agents among `dids` that this node can sign (others are left out). */
  cardsOf(dids: readonly string[]): A2aAgentCard[] {
    const cards: A2aAgentCard[] = []
    for (const did of dids) {
      try {
        cards.push(this.agentCard(did))
      } catch (err) {
        if (!isMeshsigError(err)) throw err
      }
    }
    return cards
  }
}
