/**
 * Attack review 101, F3: below `jsonExport.messageBytes` (then 64 MiB of stored
 * envelopes, now 12 MiB) the JSON audit export (`GET /audit/export`, open to anyone) is
 * still built whole, every stored body twice, and the only gate on how often
 * it is built counts audit entries (`jsonExport.entries`, 10,000;
 * api/routes/audit-routes.ts `largeJsonGate`). A log of a few hundred
 * entries holding ~60 MiB of messages is therefore built for every request,
 * ~120 MiB each, and a reader that never reads keeps it queued in the node
 * for the send deadline (60 s). This is review 98's F2 (`GET /messages`,
 * now 4 MiB a page) at 30 times the page, on the export route.
 *
 * An anonymous local user stores messages of 256 Ki 'é' just under the 413
 * bound (the review stored 120, ~62 MiB), then opens four connections that
 * ask for the JSON export and never read. Now the export is built one at a
 * time past 4 MiB of messages: the others wait (429).
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { waitFor } from '../helpers/wait-for.js'
import { startFilledApi, type FilledApi } from './filled-api.js'

const BODY = 'é'.repeat(256 * 1024)
/** As many messages of `BODY` (512 KiB each) as the JSON export is still built for, whole. */
const MESSAGES = Math.floor(DEFAULT_LIMITS.jsonExport.messageBytes / (2 * BODY.length)) - 2
const READERS = 4
/** What the node may hold for all the stalled readers together (kernel buffers aside): two GET /messages pages each. */
const HELD_BOUND = READERS * 2 * DEFAULT_LIMITS.http.messagePageBytes

let fx: FilledApi
let node: MeshNode
let url: string
let serverSockets: Socket[]

beforeAll(async () => {
  fx = await startFilledApi(MESSAGES, BODY)
  ;({ node, url, serverSockets } = fx)
  expect(node.store.messages.envelopeBytes()).toBeLessThan(DEFAULT_LIMITS.jsonExport.messageBytes)
  expect(node.auditSize()).toBeLessThan(DEFAULT_LIMITS.jsonExport.entries)
}, 600_000)

afterAll(() => fx?.stop())

/** Bytes the node holds for `socket`: its queue in Node and what libuv has not handed to the kernel. */
function held(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0
  return Math.max(socket.writableLength, queued)
}

describe('GET /audit/export (JSON), as another local user', () => {
  it('costs the node a bounded amount for readers that never read', async () => {
    const u = new URL(url)
    const clients: Socket[] = []
    const sides: Socket[] = []
    const statuses: string[] = []
    for (let i = 0; i < READERS; i++) {
      const client = connect({ host: u.hostname, port: Number(u.port) })
      client.on('error', () => undefined)
      await new Promise((resolve) => client.once('connect', resolve))
      await waitFor(() => serverSockets.length > sides.length)
      const side = serverSockets.at(-1)!
      sides.push(side)
      const first = new Promise<void>((resolve) =>
        client.once('data', (d: Buffer) => {
          client.pause() // reads the first chunk (the status line), then never again
          statuses.push(d.subarray(0, 12).toString())
          resolve()
        }),
      )
      client.write(`GET /audit/export HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`)
      await first
      clients.push(client)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    const bytes = sides.reduce((n, s) => n + held(s), 0)
    for (const c of clients) c.destroy()
    expect(
      bytes,
      `bytes held in the node for ${READERS} stalled readers (${(bytes / 2 ** 20).toFixed(0)} MiB; answers ${JSON.stringify(statuses)})`,
    ).toBeLessThanOrEqual(HELD_BOUND)
  }, 300_000)
})
