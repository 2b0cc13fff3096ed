/**
 * Attack review 98, F2: `GET /messages?limit=N` (N up to 1000, open to anyone)
 * was built whole: one `res.json` of N stored messages, each body (up to 256 Ki
 * characters from the API) twice, as `message` and in `envelope`. An anonymous
 * local user stored a few hundred big messages and asked for the page: 520
 * bodies of '"' (escaped to two characters) passed V8's largest string, and
 * `GET /messages?limit=1000` answered 500 INTERNAL to everyone; 1000 bodies of
 * 256 KiB made one answer of ~495 MiB, built in seconds of event loop, and each
 * reader that never read held it for the send deadline (a minute).
 *
 * Now a page ends at `limit` messages or `http.messagePageBytes` of JSON
 * (4 MiB), and `next` names the `before` of the rest (docs/api.md), so the
 * documented maximum answers 200 and a stalled reader holds a page at most.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { waitFor } from '../helpers/wait-for.js'
import { startFilledApi, type FilledApi } from './filled-api.js'

/** Enough quote-heavy bodies that a whole page of them passes V8's largest string (2^29 - 24 characters). */
const MESSAGES = 520
const BODY = '"'.repeat(256 * 1024)
/** What one stalled reader may hold in the node's socket queue (kernel buffers aside). */
const HELD_BOUND = 32 * 1024 * 1024

let fx: FilledApi
let url: string
let serverSockets: Socket[]

beforeAll(async () => {
  fx = await startFilledApi(MESSAGES, BODY)
  ;({ url, serverSockets } = fx)
}, 600_000)

afterAll(() => fx?.stop())

/** Bytes the node holds for `socket`: its queue in Node and what libuv has not handed to the kernel. */
function held(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0
  return Math.max(socket.writableLength, queued)
}

describe('GET /messages, as another local user', () => {
  it('answers its documented maximum page (limit=1000): a page within the byte bound, and where the rest begins', async () => {
    const res = await fetch(url + '/messages?limit=1000')
    const text = await res.text()
    expect(res.status, text.slice(0, 200)).toBe(200)
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(DEFAULT_LIMITS.http.messagePageBytes + 1024)
    const page = JSON.parse(text) as { messages: { seq: number; message: string }[]; total: number; next: number }
    expect(page.total).toBe(MESSAGES)
    expect(page.messages.length).toBeGreaterThan(0)
    expect(page.messages.length).toBeLessThan(MESSAGES)
    expect(page.messages.every((m) => m.message === BODY)).toBe(true)
    expect(page.next).toBe(page.messages.at(-1)!.seq)
    const rest = await fetch(`${url}/messages?limit=1&before=${page.next}`)
    expect(((await rest.json()) as { messages: { seq: number }[] }).messages[0]!.seq).toBeLessThan(page.next)
  }, 300_000)

  it('costs the node a bounded amount per reader that never reads', async () => {
    const u = new URL(url)
    const client = connect({ host: u.hostname, port: Number(u.port) })
    client.on('error', () => undefined)
    await new Promise((resolve) => client.once('connect', resolve))
    await waitFor(() => serverSockets.length > 0 && serverSockets.at(-1))
    const side = serverSockets.at(-1)!
    client.write(`GET /messages?limit=200 HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`)
    client.pause() // never reads
    await waitFor(() => side.bytesWritten > 0 || side.destroyed, { timeout: 120_000, message: 'the answer begun' })
    // give a paged writer the chance to fill what it would hold; a whole answer is queued at once
    await new Promise((resolve) => setTimeout(resolve, 500))
    const bytes = held(side)
    client.destroy()
    expect(
      bytes,
      `bytes held in the node for one stalled reader (${(bytes / 2 ** 20).toFixed(0)} MiB)`,
    ).toBeLessThanOrEqual(HELD_BOUND)
  }, 300_000)
})
