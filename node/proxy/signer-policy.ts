/**
 * Which key signs a proxied request. Chosen by what the kernel attests about
 * the caller, never by what the caller says: a connection that arrives on an
 * agent's listener was put there by an iptables owner rule for that agent's
 * uid (scripts/deploy-proxy.sh --agent), so it is signed as that agent; a
 * caller whose source address is mapped signs as the mapped agent; anything
 * else is refused unless the operator explicitly lets the proxy sign it as
 * the node. The request body and the `X-Meshsig-Agent` header never choose.
 * A request the policy cannot sign is refused, never forwarded unsigned.
 */
import { MeshsigError, type HttpSigner } from '../core/index.js'

/** A key the proxy signs with, and the DID it signs as (the `keyid`). The seed stays with its owner. */
export interface ProxySigner extends HttpSigner {
  /** The DID put in `keyid`. */
  readonly did: string
  /** The signer's current public key (raw): Web Bot Auth's `keyid` is its thumbprint (docs/interop.md). */
  readonly publicKey?: Uint8Array
}

/**
 * The header that once let a caller name the agent to sign as. It is refused
 * (403): anyone who can reach the proxy could send it (docs/proxy.md).
 */
export const AGENT_HEADER = 'x-meshsig-agent'

/** What the proxy knows about a caller when choosing the signer (no body: it is not read yet). */
export interface ProxyCaller {
  /** The caller's address as the proxy's socket sees it (an iptables REDIRECT keeps it). */
  readonly remoteAddress: string
  /** The caller's source port. */
  readonly remotePort: number
  /** The agent listener that accepted the connection (its label), or undefined for the default listener. */
  readonly listener: string | undefined
  /** The `X-Meshsig-Agent` header, if the caller sent one (always refused). */
  readonly agent: string | undefined
}

/**
 * Choose the signer for a caller: a signer, undefined when no key is
 * configured (answered 503), or a thrown MeshsigError answered with its status.
 */
export type SignerFor = (caller: ProxyCaller) => ProxySigner | undefined

/** How `signerPolicy` chooses. */
export interface SignerPolicyOptions {
  /** The node's own signer: used only when `signAsNode` is true. */
  nodeSigner(): ProxySigner | undefined
  /** The signer of an agent whose keys this node custodies, or undefined. */
  custodied?(did: string): ProxySigner | undefined
  /** The signer of the agent behind an agent listener (by its label), or undefined. */
  agentSigner?(listener: string): ProxySigner | undefined
  /** Caller source address → DID of a custodied agent (agents in their own containers or namespaces). */
  readonly bySource?: ReadonlyMap<string, string>
  /**
   * Sign callers that nothing attributes to an agent as the node itself
   * (default false: they are refused with 403). Only for hosts where every
   * local process may speak for the node.
   */
  readonly signAsNode?: boolean
}

function forbidden(message: string): MeshsigError {
  return new MeshsigError('FORBIDDEN', message)
}

/** A `SignerFor` from configuration. */
export function signerPolicy(options: SignerPolicyOptions): SignerFor {
  return (caller) => {
    if (caller.agent !== undefined) {
      throw forbidden(
        'X-Meshsig-Agent is not accepted: the proxy attributes a caller by its uid (docs/proxy.md); not forwarded',
      )
    }
    if (caller.listener !== undefined) return options.agentSigner?.(caller.listener)
    const mapped = options.bySource?.get(normalizeAddress(caller.remoteAddress))
    if (mapped !== undefined) return options.custodied?.(mapped)
    if (options.signAsNode === true) return options.nodeSigner()
    throw forbidden(
      'no agent is attributed to this caller (no per-uid rule sends its uid to an agent listener, ' +
        'and signing as the node is not enabled); not forwarded',
    )
  }
}

/** An IPv4 address without the IPv6-mapped prefix node:net may give it (`::ffff:10.0.0.5`). */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}
