/**
 * Did a connection on an agent listener come through the iptables REDIRECT
 * of the gateway port? The kernel's socket table says: the caller's own
 * socket still believes it is connected to the gateway port (REDIRECT
 * rewrites the destination only in the NAT table), while a process that
 * connected to the agent listener directly has a socket connected to the
 * listener's port. Only root can install a REDIRECT, and
 * scripts/deploy-proxy.sh installs one to an agent listener only for that
 * agent's uid, so a redirected connection was made by that uid. The caller's
 * row also names the uid that owns its socket (the one the rule matched): the
 * check gives it, and the proxy serves only the uid its listener was started
 * for (rules outlive the node, attack review 93). Anything unclear (no table,
 * no entry, several candidate sockets) is "not redirected".
 *
 * Any local user can add rows to the tables, so a check costs the event loop
 * no more than the lines of the caller's port (found with `indexOf` in the
 * raw text, decision 0048): checks waiting together share one read of the
 * tables, one read runs at a time, and past `limits.proxy.pendingRedirectChecks`
 * checks waiting a new one is refused (`RATE_LIMITED`, fail closed).
 */
import { readFile } from 'node:fs/promises'
import { endianness } from 'node:os'
import { MeshsigError } from '../core/index.js'
import { DEFAULT_LIMITS } from '../limits.js'
import { normalizeAddress } from './signer-policy.js'

/** The two ends of an accepted connection, as the proxy's socket sees them. */
export interface ConnectionEnds {
  /** The caller's address and port. */
  readonly remoteAddress: string
  readonly remotePort: number
  /** The listener's port. */
  readonly localPort: number
}

/**
 * What a redirect check found: false (not shown to come through the redirect),
 * or the uid that owns the caller's socket (the kernel's word: the column
 * `uid` of its row, the owner the iptables rule matched).
 */
export type RedirectVerdict = false | { readonly uid: number }

/** Answers whether a connection was redirected from the gateway port, and by which uid's socket. */
export type RedirectCheck = (ends: ConnectionEnds) => Promise<RedirectVerdict>

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
  /** The uid that owns the socket (the 8th column). */
  readonly uid: number
  /** The socket's inode (the 10th column): 0 once no process holds it (closed, orphaned: its uid reads 0). */
  readonly inode: number
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

/** One line of a /proc/net/tcp{,6} table as a row, or undefined for the header or an unreadable line. */
function parseRow(line: string, little: boolean): SocketRow | undefined {
  const fields = line.trim().split(/\s+/)
  const local = endpoint(fields[1], little)
  const remote = endpoint(fields[2], little)
  if (!local || !remote || fields[3] === undefined) return undefined
  if (!/^[0-9]{1,10}$/.test(fields[7] ?? '') || !/^[0-9]{1,20}$/.test(fields[9] ?? '')) return undefined
  return {
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
    state: fields[3],
    uid: Number(fields[7]),
    inode: Number(fields[9]),
  }
}

/** The rows of a /proc/net/tcp{,6} table (the header and unreadable lines skipped). */
export function parseProcTcp(text: string, little = endianness() === 'LE'): SocketRow[] {
  const rows: SocketRow[] = []
  for (const line of text.split('\n').slice(1)) {
    const row = parseRow(line, little)
    if (row) rows.push(row)
  }
  return rows
}

/**
 * Where the lines of each port start in a /proc/net/tcp{,6} table: the
 * kernel writes each address as `%08X:%04X` (`%032X:%04X` in tcp6) followed
 * by a space, so `:PORT ` in upper-case hex marks a local or remote port (the
 * queue and timer columns hold 8 hex digits after their colon). One pass of
 * the text, made once per read, whatever the number of checks that share the
 * read: a scan per check cost a batch of 64 checks 64 passes of a table any
 * local user can grow (a review of decision 0048).
 */
export function portIndex(text: string): Map<string, number[]> {
  const index = new Map<string, number[]>()
  const marks = /:([0-9A-F]{4}) /g
  marks.lastIndex = text.indexOf('\n') + 1 // after the header
  if (marks.lastIndex === 0) return index
  for (let m = marks.exec(text); m !== null; m = marks.exec(text)) {
    const start = text.lastIndexOf('\n', m.index) + 1
    const starts = index.get(m[1]!) ?? []
    if (starts[starts.length - 1] !== start) starts.push(start) // a line that names the port twice is read once
    index.set(m[1]!, starts)
  }
  return index
}

/** The rows of `text` whose local or remote port is `port`, parsing only their lines (`portIndex`). */
export function rowsAt(text: string, index: Map<string, number[]>, port: number, little: boolean): SocketRow[] {
  const rows: SocketRow[] = []
  for (const start of index.get(port.toString(16).toUpperCase().padStart(4, '0')) ?? []) {
    const newline = text.indexOf('\n', start)
    const row = parseRow(text.slice(start, newline < 0 ? text.length : newline), little)
    if (row) rows.push(row)
  }
  return rows
}

/** The rows of a /proc/net/tcp{,6} table whose local or remote port is `port`, parsing only their lines. */
export function rowsWithPort(text: string, port: number, little = endianness() === 'LE'): SocketRow[] {
  return rowsAt(text, portIndex(text), port, little)
}

/** One read of the tables, shared by the checks of its batch: each table's text, indexed on first use. */
class TableRead {
  #index: Map<string, number[]>[] | undefined
  constructor(private readonly texts: readonly string[]) {}

  /** The rows of every table whose local or remote port is `port`. */
  rows(port: number, little = endianness() === 'LE'): SocketRow[] {
    this.#index ??= this.texts.map(portIndex)
    return this.texts.flatMap((text, i) => rowsAt(text, this.#index![i]!, port, little))
  }
}

/**
 * The uid of the caller's socket when, in one snapshot of the table, the
 * proxy's end of the connection is still live and the caller's socket is the
 * only live socket bound to the caller's address and port, connected to
 * `gatewayPort`; else false. (A caller cannot drop its direct socket from the
 * table without resetting the proxy's end too, so a second socket of its own
 * connected to the gateway port never passes for the first.)
 */
export function redirectedIn(rows: readonly SocketRow[], ends: ConnectionEnds, gatewayPort: number): RedirectVerdict {
  const address = normalizeAddress(ends.remoteAddress)
  // a socket no process holds (inode 0: its caller closed it during the check) is gone, whatever its state; its
  // uid column reads 0 and names nobody who connected (attack review 95)
  const live = rows.filter((r) => !GONE_STATES.has(r.state) && r.inode !== 0)
  const ours = live.some(
    (r) => r.localPort === ends.localPort && r.remotePort === ends.remotePort && r.remoteAddress === address,
  )
  const callers = live.filter((r) => r.localPort === ends.remotePort && r.localAddress === address)
  const caller = callers.length === 1 ? callers[0] : undefined
  const through = ours && caller?.remotePort === gatewayPort && gatewayPort !== ends.localPort
  return through && caller !== undefined ? { uid: caller.uid } : false
}

/** Options of `procRedirectCheck`. */
export interface ProcRedirectOptions {
  /** Most checks waiting at once; past it a check is refused (default `limits.proxy.pendingRedirectChecks`). */
  readonly maxPending?: number
}

/**
 * Reads the tables for many checks: one read at a time; every check that
 * asks while a read waits to start shares it. A read that already started
 * is not shared: it may predate the connection asked about.
 */
function sharedTables(read: (path: string) => Promise<string>): () => Promise<TableRead> {
  let running: Promise<unknown> | undefined
  let waiting: Promise<TableRead> | undefined
  const start = (): Promise<TableRead> => {
    waiting = undefined
    const texts = Promise.all(PROC_TCP_TABLES.map((path) => read(path).catch(() => '')))
    const tables = texts.then((t) => new TableRead(t))
    const done = (): void => {
      if (running === tables) running = undefined
    }
    running = tables
    tables.then(done, done)
    return tables
  }
  return () => {
    waiting ??= running ? running.then(start, start) : Promise.resolve().then(start)
    return waiting
  }
}

/**
 * A `RedirectCheck` reading the kernel's socket tables (Linux; the caller
 * must be in the proxy's network namespace, which a loopback caller is).
 * Unreadable tables answer false: fail closed. Past `maxPending` checks
 * waiting, a check rejects with `RATE_LIMITED` (decision 0048).
 */
export function procRedirectCheck(
  gatewayPort: number,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
  options: ProcRedirectOptions = {},
): RedirectCheck {
  const maxPending = options.maxPending ?? DEFAULT_LIMITS.proxy.pendingRedirectChecks
  const tables = sharedTables(read)
  let pending = 0
  return async (ends) => {
    if (pending >= maxPending) {
      throw new MeshsigError(
        'RATE_LIMITED',
        `${maxPending} connections are already waiting for the redirect check; try again`,
        { limit: 'proxy.pendingRedirectChecks' },
      )
    }
    pending++
    try {
      return redirectedIn((await tables()).rows(ends.remotePort), ends, gatewayPort)
    } finally {
      pending--
    }
  }
}
