/**
 * Which key signs a proxied request. Chosen by configuration, never guessed
 * from the request body: the node's own identity by default; an agent this
 * node custodies when the caller's source address is mapped to it, or when
 * the `X-Meshsig-Agent: <did>` header names it and that header is enabled.
 * A request the policy cannot sign is refused, never forwarded unsigned.
 */
import { MeshsigError, type HttpSigner } from '../core/index.js'

/** A key the proxy signs with, and the DID it signs as (the `keyid`). The seed stays with its owner. */
export interface ProxySigner extends HttpSigner {
  /** The DID put in `keyid`. */
  readonly did: string
}

/** The header an agent uses to ask for its own (custodied) key. */
export const AGENT_HEADER = 'x-meshsig-agent'

/** What the proxy knows about a caller when choosing the signer (no body: it is not read yet). */
export interface ProxyCaller {
  /** The caller's address as the proxy's socket sees it (an iptables REDIRECT keeps it). */
  readonly remoteAddress: string
  /** The caller's source port. */
  readonly remotePort: number
  /** The `X-Meshsig-Agent` header, if the caller sent one. */
  readonly agent: string | undefined
}

/**
 * Choose the signer for a caller: a signer, undefined when no key is
 * configured (answered 503), or a thrown MeshsigError answered with its status.
 */
export type SignerFor = (caller: ProxyCaller) => ProxySigner | undefined

/** How `signerPolicy` chooses. */
export interface SignerPolicyOptions {
  /** The node's own signer: the default for every caller. */
  nodeSigner(): ProxySigner | undefined
  /** The signer of an agent whose keys this node custodies, or undefined. */
  custodied?(did: string): ProxySigner | undefined
  /**
   * Honour `X-Meshsig-Agent` (default false). Any local process that can
   * reach the proxy may send it, so enable it only where every such process
   * may act as every custodied agent.
   */
  readonly agentHeader?: boolean
  /** Caller source address → DID of a custodied agent (agents in their own containers or namespaces). */
  readonly bySource?: ReadonlyMap<string, string>
}

function forbidden(message: string): MeshsigError {
  return new MeshsigError('FORBIDDEN', message)
}

/** A `SignerFor` from configuration. */
export function signerPolicy(options: SignerPolicyOptions): SignerFor {
  return (caller) => {
    if (caller.agent !== undefined) {
      if (options.agentHeader !== true) {
        throw forbidden('X-Meshsig-Agent is not enabled on this proxy; the request was not forwarded')
      }
      const signer = options.custodied?.(caller.agent)
      if (signer === undefined) {
        throw forbidden('this node does not hold the key of the agent named in X-Meshsig-Agent; not forwarded')
      }
      return signer
    }
    const mapped = options.bySource?.get(normalizeAddress(caller.remoteAddress))
    if (mapped !== undefined) return options.custodied?.(mapped)
    return options.nodeSigner()
  }
}

/** An IPv4 address without the IPv6-mapped prefix node:net may give it (`::ffff:10.0.0.5`). */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}
