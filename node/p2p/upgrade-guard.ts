/**
 * The Host and Origin rules of docs/protocol.md §8 for the mesh's own WebSocket listener
 * (the API applies the same ones in api/security.ts): a libp2p node never
 * sends `Origin`, a browser always does, so any `Origin` is refused unless
 * explicitly allowed; and a `Host` header that does not name this node (DNS
 * rebinding) is refused. Pure: the caller supplies the machine's names.
 */
import { bareHost as bare, hostNameOf, LOOPBACK_NAMES } from '../core/host-name.js'

/** The headers of an upgrade request the check reads (Node's `IncomingHttpHeaders` fits). */
export interface UpgradeHeaders {
  readonly host?: string | undefined
  readonly origin?: string | undefined
  /** The Origin header of WebSocket protocol versions 8 and earlier. */
  readonly 'sec-websocket-origin'?: string | undefined
}

/** What the machine is called: the inputs of `meshHostNames` that are not in the listen addresses. */
export interface MachineNames {
  /** `os.hostname()`. */
  readonly hostname: string
  /** Addresses of the machine's network interfaces (IPv6 zones allowed). */
  readonly addresses: readonly string[]
}

/** Which Host and Origin values the mesh listener accepts. */
export interface UpgradePolicy {
  /** Lower-case host names (no port, IPv6 without brackets) accepted in `Host`. */
  readonly allowedHosts: ReadonlySet<string>
  /** Lower-case origins (`scheme://host[:port]`) accepted in `Origin`; empty by default. */
  readonly allowedOrigins?: ReadonlySet<string>
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}

/**
 * The host names a node with these listen multiaddrs answers to: loopback
 * names, each listen host, the machine's name and interface addresses when a
 * listen address is a wildcard (`0.0.0.0`, `::`), and `extra` names.
 */
export function meshHostNames(
  listen: readonly string[],
  machine: MachineNames,
  extra: readonly string[] = [],
): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES)
  for (const addr of listen) {
    const parts = addr.split('/')
    if (!['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(parts[1] ?? '') || parts[2] === undefined) continue
    const host = bare(parts[2])
    if (isWildcard(host)) {
      names.add(bare(machine.hostname))
      for (const a of machine.addresses) names.add(bare(a))
    } else {
      names.add(host)
    }
  }
  for (const name of extra) names.add(bare(name))
  return names
}

/**
 * Why a WebSocket upgrade to the mesh listener is refused, or undefined when
 * it passes: an `Origin` (a browser page) that is not explicitly allowed, or
 * a `Host` that does not name this node.
 */
export function meshUpgradeRefusal(headers: UpgradeHeaders, policy: UpgradePolicy): string | undefined {
  const origin = headers.origin ?? headers['sec-websocket-origin']
  if (origin !== undefined && !(policy.allowedOrigins?.has(origin.trim().toLowerCase()) ?? false)) {
    return 'browser origins may not join the mesh (a libp2p node sends no Origin)'
  }
  const host = hostNameOf(headers.host)
  if (host === undefined || !policy.allowedHosts.has(host)) {
    return 'Host header does not name this node (DNS rebinding protection)'
  }
  return undefined
}

/** The raw HTTP answer that refuses an upgrade: 403 with the API's `{error, code}` body, connection closed. */
export function upgradeRefusalResponse(reason: string): string {
  const body = JSON.stringify({ error: reason, code: 'FORBIDDEN' })
  return (
    'HTTP/1.1 403 Forbidden\r\n' +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    '\r\n' +
    body
  )
}
