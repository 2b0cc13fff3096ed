/**
 * The uid behind a loopback connection to the API (docs/protocol.md §8 "Rate
 * limit"): every local user reaches 127.0.0.1, so the address names nobody,
 * but the kernel's socket table names the uid that owns the caller's end of
 * the connection, and no local process can forge another user's socket. The
 * rate limit gives each such uid a bucket of its own.
 *
 * Reading the tables is dear: the kernel walks its whole connection hash for
 * it (14 ms of system CPU for both tables on the project's machine, whatever
 * few sockets they list; decision 0037). So a lookup is remembered for
 * the socket's life, lookups waiting at the same time share one read, reads
 * are at least `minIntervalMs` apart, and at most `maxWaiting` lookups wait
 * (those past it answer undefined at once): a flood of connections costs at
 * most one read per interval. Anything unclear (not Linux, no entry, the
 * caller gone) answers undefined.
 */
import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { GONE_STATES, PROC_TCP_TABLES, parseProcTcp, type SocketRow } from '../node/socket-table.js'

/** Reads one socket table (default: the file). */
export type TableReader = (path: string) => Promise<string>

/** How often the tables may be read, and how many lookups may wait for a read. */
export interface OwnerLookupLimits {
  /** Least time between two reads of the tables (default 250 ms: at most 4 a second). */
  readonly minIntervalMs: number
  /** Most lookups waiting for a read (default 1,024). */
  readonly maxWaiting: number
}

/** Default limits: 4 reads a second, 1,024 lookups waiting. */
export const DEFAULT_OWNER_LOOKUP_LIMITS: OwnerLookupLimits = { minIntervalMs: 250, maxWaiting: 1024 }

interface Waiting {
  readonly key: string
  readonly resolve: (uid: number | undefined) => void
}

/** Finds and remembers the owners of loopback callers' sockets. */
export class LoopbackOwners {
  private readonly known = new WeakMap<Socket, Promise<number | undefined>>()
  private waiting: Waiting[] = []
  private reading = false
  private lastRead = -Infinity

  constructor(
    private readonly read: TableReader = (path) => readFile(path, 'utf8'),
    private readonly limits: OwnerLookupLimits = DEFAULT_OWNER_LOOKUP_LIMITS,
  ) {}

  /** The uid owning the other end of `socket`, or undefined when the table does not say. */
  uidOf(socket: Socket): Promise<number | undefined> {
    let uid = this.known.get(socket)
    if (uid === undefined) {
      uid = this.lookup(callerKey(socket))
      this.known.set(socket, uid)
    }
    return uid
  }

  private lookup(key: string | undefined): Promise<number | undefined> {
    if (key === undefined || this.waiting.length >= this.limits.maxWaiting) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      this.waiting.push({ key, resolve })
      if (!this.reading) void this.drain()
    })
  }

  /** The owners of the live sockets now; none when the tables cannot be read or parsed (never throws). */
  private async readOwners(): Promise<Map<string, number | null>> {
    try {
      const tables = await Promise.all(PROC_TCP_TABLES.map((path) => this.read(path).catch(() => '')))
      return ownersOf(tables.flatMap((t) => parseProcTcp(t)))
    } catch {
      return new Map()
    }
  }

  /** One read of the tables for every lookup waiting, until none is. */
  private async drain(): Promise<void> {
    this.reading = true
    try {
      while (this.waiting.length > 0) {
        const wait = this.lastRead + this.limits.minIntervalMs - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const batch = this.waiting
        this.waiting = []
        this.lastRead = performance.now()
        const owners = await this.readOwners()
        for (const w of batch) w.resolve(owners.get(w.key) ?? undefined)
      }
    } finally {
      this.reading = false
    }
  }
}

/** The caller's end of `socket` as the table names it: its address and port, then ours. */
function callerKey(socket: Socket): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined) return undefined
  if (localPort === undefined) return undefined
  return endsKey(unmapped(remoteAddress), remotePort, unmapped(localAddress), localPort)
}

/** The uid of each live socket by its ends; null where two live sockets share them (never trusted). */
function ownersOf(rows: readonly SocketRow[]): Map<string, number | null> {
  const owners = new Map<string, number | null>()
  for (const r of rows) {
    if (GONE_STATES.has(r.state) || r.uid === undefined) continue
    const key = endsKey(r.localAddress, r.localPort, r.remoteAddress, r.remotePort)
    owners.set(key, owners.has(key) ? null : r.uid)
  }
  return owners
}

function endsKey(localAddress: string, localPort: number, remoteAddress: string, remotePort: number): string {
  return `${localAddress}:${localPort}>${remoteAddress}:${remotePort}`
}

/** `::ffff:127.0.0.1` as the table writes it: `127.0.0.1`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}
