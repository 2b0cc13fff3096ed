/**
 * Did a connection on an agent listener come through the iptables REDIRECT
 * of the gateway port? The kernel's socket table says: the caller's own
 * socket still believes it is connected to the gateway port (REDIRECT
 * rewrites the destination only in the NAT table), while a process that
 * connected to the agent listener directly has a socket connected to the
 * listener's port. Only root can install a REDIRECT, and
 * scripts/deploy-proxy.sh installs one to an agent listener only for that
 * agent's uid, so a redirected connection was made by that uid. Anything
 * unclear (no table, no entry, several candidate sockets) is "not redirected".
 */
import { readFile } from 'node:fs/promises'
import { GONE_STATES, PROC_TCP_TABLES, parseProcTcp, type SocketRow } from '../socket-table.js'
import { normalizeAddress } from './signer-policy.js'

export { PROC_TCP_TABLES, parseProcTcp, procAddress, type SocketRow } from '../socket-table.js'

/** The two ends of an accepted connection, as the proxy's socket sees them. */
export interface ConnectionEnds {
  /** The caller's address and port. */
  readonly remoteAddress: string
  readonly remotePort: number
  /** The listener's port. */
  readonly localPort: number
}

/** Answers whether a connection was redirected from the gateway port. */
export type RedirectCheck = (ends: ConnectionEnds) => Promise<boolean>

/**
 * True when, in one snapshot of the table, the proxy's end of the
 * connection is still live and the caller's socket is the only live socket
 * bound to the caller's address and port, connected to `gatewayPort`. (A
 * caller cannot drop its direct socket from the table without resetting the
 * proxy's end too, so a second socket of its own connected to the gateway
 * port never passes for the first.)
 */
export function redirectedIn(rows: readonly SocketRow[], ends: ConnectionEnds, gatewayPort: number): boolean {
  const address = normalizeAddress(ends.remoteAddress)
  const live = rows.filter((r) => !GONE_STATES.has(r.state))
  const ours = live.some(
    (r) => r.localPort === ends.localPort && r.remotePort === ends.remotePort && r.remoteAddress === address,
  )
  const callers = live.filter((r) => r.localPort === ends.remotePort && r.localAddress === address)
  return ours && callers.length === 1 && callers[0]?.remotePort === gatewayPort && gatewayPort !== ends.localPort
}

/**
 * A `RedirectCheck` reading the kernel's socket tables (Linux; the caller
 * must be in the proxy's network namespace, which a loopback caller is).
 * Unreadable tables answer false: fail closed.
 */
export function procRedirectCheck(
  gatewayPort: number,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): RedirectCheck {
  return async (ends) => {
    const tables = await Promise.all(PROC_TCP_TABLES.map((path) => read(path).catch(() => '')))
    return redirectedIn(
      tables.flatMap((t) => parseProcTcp(t)),
      ends,
      gatewayPort,
    )
  }
}
