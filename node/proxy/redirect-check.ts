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
import { endianness } from 'node:os'
import { normalizeAddress } from './signer-policy.js'

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

/** The kernel's TCP socket tables of this network namespace. */
export const PROC_TCP_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const

/** TIME_WAIT and CLOSE: sockets that no longer carry a connection. */
const GONE_STATES = new Set(['06', '07'])

/** One socket of the kernel's table. */
export interface SocketRow {
  readonly localAddress: string
  readonly localPort: number
  readonly remoteAddress: string
  readonly remotePort: number
  /** Two hex digits: 01 ESTABLISHED, 06 TIME_WAIT, 0A LISTEN, … */
  readonly state: string
}

/** An address of /proc/net/tcp{,6} (32-bit words in host byte order, hex) as node:net writes it. */
export function procAddress(hex: string, little = endianness() === 'LE'): string {
  const bytes = Buffer.from(hex, 'hex')
  if (little) for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.subarray(i, i + 4).reverse()
  if (bytes.length === 4) return [...bytes].join('.')
  const v4mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  if (v4mapped) return [...bytes.subarray(12)].join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16))
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1) // compressed, as node:net writes it
}

function endpoint(text: string | undefined, little: boolean): { address: string; port: number } | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text ?? '')
  if (!m) return undefined
  return { address: procAddress(m[1] ?? '', little), port: parseInt(m[2] ?? '', 16) }
}

/** The rows of a /proc/net/tcp{,6} table (the header and unreadable lines skipped). */
export function parseProcTcp(text: string, little = endianness() === 'LE'): SocketRow[] {
  const rows: SocketRow[] = []
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    const local = endpoint(fields[1], little)
    const remote = endpoint(fields[2], little)
    if (!local || !remote || fields[3] === undefined) continue
    rows.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: fields[3],
    })
  }
  return rows
}

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
