/**
 * The kernel's TCP socket tables (/proc/net/tcp and tcp6 on Linux): who owns
 * the other end of a loopback connection. A local process cannot make a
 * socket of another user's appear in them, so the owner's uid is an identity
 * where the address 127.0.0.1 is not (docs/protocol.md §8). Used by the
 * signing proxy (redirect-check.ts) and the API's rate limit.
 */
import { endianness } from 'node:os'

/** The kernel's TCP socket tables of this network namespace. */
export const PROC_TCP_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const

/** TIME_WAIT and CLOSE: sockets that no longer carry a connection (and whose uid the kernel no longer keeps). */
export const GONE_STATES: ReadonlySet<string> = new Set(['06', '07'])

/** One socket of the kernel's table. */
export interface SocketRow {
  readonly localAddress: string
  readonly localPort: number
  readonly remoteAddress: string
  readonly remotePort: number
  /** Two hex digits: 01 ESTABLISHED, 06 TIME_WAIT, 0A LISTEN, … */
  readonly state: string
  /** The uid that owns the socket (undefined when the line has none). */
  readonly uid?: number
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
    const uid = /^\d+$/.test(fields[7] ?? '') ? Number(fields[7]) : undefined
    rows.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: fields[3],
      ...(uid !== undefined ? { uid } : {}),
    })
  }
  return rows
}
