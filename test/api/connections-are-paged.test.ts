/**
 * `GET /connections` answers a page, never every row at once (docs/api.md `GET /connections`). What a user would
 * check: without `limit` the answer holds the default page (100 rows) and a `next`; following `next` reads every
 * connection once; the node's memory does not grow with the number of rows a reader asks for.
 *
 * The attack (review H3-3): the route passed no limit to the store (`LIMIT -1`, node/store/audit-entries-repo.ts),
 * scored each row, and answered them all in one `res.json`. Rows come from handshakes between agents anyone on
 * loopback can register (a pair gives a new row per hour). Measured with test/attack-scripts/connections-unbounded.mjs and
 * test/attack-scripts/connections-stalled.mjs: 13,550 rows were one 13.8 MiB answer (1.8 s); twenty anonymous readers that never
 * read took the node from 214 to 484 MB (VmHWM).
 *
 * Here 33 agents make 1,056 rows; an answer without `limit` must be a bounded page (at most 1,000 rows, the
 * largest page of `/snapshot` and `/trust`) or streamed (chunked, like `/agents`).
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { bindApiPort, createApiServer, urlOf } from '../../api/listener.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const AGENTS = 33
const token = randomBytes(32).toString('base64url')
let node: MeshNode
let api: Api
let server: Server
let url: string

async function call(path: string, body?: unknown): Promise<Response> {
  return fetch(url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
}

beforeAll(async () => {
  node = await startNode()
  api = createApi(node, { host: '127.0.0.1', token, rateLimit: 0 })
  server = createApiServer(api.handler)
  await bindApiPort(server, { host: '127.0.0.1', port: 0 })
  url = urlOf(server, '127.0.0.1')
}, 60_000)

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server?.close(() => resolve())
    server?.closeAllConnections()
  })
  await api?.close()
  await stopAll([node])
})

describe('GET /connections without limit', () => {
  it('is a bounded page or a stream, not every row in one answer', async () => {
    const dids: string[] = []
    for (let i = 0; i < AGENTS; i++) {
      const r = (await (await call('/agents/register', { name: `c${i}` })).json()) as { identity: { did: string } }
      dids.push(r.identity.did)
    }
    const pairs = dids.flatMap((a) => dids.filter((b) => b !== a).map((b) => [a, b] as const))
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let p = pairs.pop(); p !== undefined; p = pairs.pop()) {
          const r = await call('/handshake', { fromDid: p[0], toDid: p[1] })
          expect(r.status).toBe(200)
          await r.arrayBuffer()
        }
      }),
    )
    const res = await fetch(url + '/connections') // anonymous
    const chunked = res.headers.get('transfer-encoding') === 'chunked'
    const body = (await res.json()) as { connections: unknown[]; total: number }
    expect(body.total).toBe(AGENTS * (AGENTS - 1))
    expect(chunked || body.connections.length <= 1000, `${body.connections.length} rows in one answer`).toBe(true)
    // every row is still there, a page at a time
    const seen = new Set<string>()
    let next: string | null = (body as { next?: string | null }).next ?? null
    for (const c of body.connections as { id: string }[]) seen.add(c.id)
    while (next !== null) {
      const page = (await (await fetch(`${url}/connections?limit=1000&cursor=${next}`)).json()) as {
        connections: { id: string }[]
        next: string | null
      }
      for (const c of page.connections) seen.add(c.id)
      next = page.next
    }
    expect(seen.size).toBe(AGENTS * (AGENTS - 1))
  }, 180_000)
})
