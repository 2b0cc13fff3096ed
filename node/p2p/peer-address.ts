/**
 * The forms a peer to join may take (`meshsig start --peer`, `MESHSIG_PEERS`,
 * `"peers"` in config.json; docs/protocol.md §9): a multiaddr, or the seed
 * form `ws://host:port` (also `wss://`, `http://`, `https://`), which names a
 * running node by its HTTP address. Checked when the configuration is loaded,
 * so a typo ends `meshsig start` before anything listens (decision 0078).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'

/** The accepted forms, as error messages name them. */
export const PEER_FORMS =
  'a multiaddr (/ip4/203.0.113.7/tcp/4889/p2p/<PeerId>) or a seed address (ws://host:port or wss://host:port)'

function multiaddrProblem(peer: string): string | undefined {
  let components: ReadonlyArray<{ name: string; value?: string }>
  try {
    components = multiaddr(peer).getComponents()
  } catch (err) {
    return `not a multiaddr (${(err as Error).message})`
  }
  if (components.length === 0) return 'an empty multiaddr'
  for (const c of components) {
    if (c.name !== 'p2p') continue
    try {
      peerIdFromString(c.value ?? '')
    } catch {
      return 'a multiaddr whose /p2p/ part is not a PeerId'
    }
  }
  return undefined
}

function seedUrlProblem(peer: string): string | undefined {
  let url: URL
  try {
    url = new URL(peer)
  } catch {
    return 'neither a multiaddr (those start with /) nor a URL'
  }
  if (!/^(wss?|https?):$/.test(url.protocol))
    return `a URL whose scheme ${url.protocol} is not ws:, wss:, http: or https:`
  if (url.hostname === '') return 'a URL with no host'
  return undefined
}

/**
 * Why `peer` is no address a node can join (a phrase to follow "is"), or
 * undefined when it is one: a
 * string starting with `/` must parse as a multiaddr (a `/p2p/` part must be a
 * PeerId), anything else as a ws(s)/http(s) URL with a host.
 */
export function peerAddressProblem(peer: string): string | undefined {
  return peer.startsWith('/') ? multiaddrProblem(peer) : seedUrlProblem(peer)
}
