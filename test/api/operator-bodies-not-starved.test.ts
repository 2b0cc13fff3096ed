/**
 * Request bodies in flight have a budget the operator cannot be starved of, and a count per client that a
 * forwarded address cannot multiply (docs/api.md, "Request bodies"; decision 0092). What a user would check: while
 * anonymous callers (or agents, whose credentials anyone on loopback mints) hold every body they may, their next
 * body is answered 429 `RATE_LIMITED` with `Retry-After`, and the operator's request with the token still goes
 * through; once their connections close, the budget is theirs again.
 *
 * The attack (review H3-4): POST bodies declaring 1 MiB that trickle in were held whole, as many as the API's
 * connections allowed (test/attack-scripts/slow-bodies.mjs: 118 to 728 MB RSS).
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import type { ApiOptions } from '../../api/options.js'
import { bindApiPort, createApiServer, urlOf } from '../../api/listener.js'
import { BODY_BYTES_IN_FLIGHT, BODY_BYTES_OPERATOR_RESERVE } from '../../node/limits.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const MIB = 1024 * 1024
const token = randomBytes(32).toString('base64url')
let node: MeshNode | undefined
let api: Api | undefined
let server: Server | undefined
let sockets: Socket[] = []

async function start(options: Partial<ApiOptions>): Promise<string> {
  node ??= await startNode()
  api = createApi(node, { host: '127.0.0.1', token, rateLimit: 0, ...options })
  server = createApiServer(api.handler)
  await bindApiPort(server, { host: '127.0.0.1', port: 0 })
  return urlOf(server, '127.0.0.1')
}

/** A POST /verify declaring 1 MiB that sends all but its last byte; resolves its status line, if any comes. */
function trickle(url: string, headers: Record<string, string> = {}): { answer: Promise<string> } {
  const { port } = new URL(url)
  const s = connect(Number(port), '127.0.0.1')
  sockets.push(s)
  s.on('error', () => undefined)
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
  s.write(
    `POST /verify HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${MIB}\r\n${extra.join('')}\r\n`,
  )
  const body = Buffer.alloc(MIB - 1, 0x20)
  body[0] = 0x7b
  s.write(body)
  let text = ''
  const answer = new Promise<string>((resolve) => {
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      if (text.includes('\r\n\r\n')) resolve(text)
    })
    s.on('close', () => resolve(text))
  })
  return { answer }
}

async function post(url: string, path: string, body: unknown, bearer?: string): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  })
}

/** Wait until the node has read every held request's head (their charge is taken then). */
async function settled(): Promise<void> {
  await waitFor(() => sockets.every((s) => s.writableLength === 0), { timeout: 30_000 })
  await new Promise((resolve) => setTimeout(resolve, 300))
}

afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets = []
  await new Promise<void>((resolve) => {
    if (server === undefined) return resolve()
    server.close(() => resolve())
    server.closeAllConnections()
  })
  await api?.close()
  server = undefined
  api = undefined
})

afterAll(async () => {
  if (node) await stopAll([node])
})

describe('request bodies in flight', () => {
  it('keep a reserve for the operator when anonymous callers and agents hold the rest', async () => {
    const url = await start({})
    const agent = (await (await post(url, '/agents/register', { name: 'a' }, token)).json()) as {
      identity: { credential: string }
    }
    const share = (BODY_BYTES_IN_FLIGHT - BODY_BYTES_OPERATOR_RESERVE) / MIB
    const held = Array.from({ length: share }, () => trickle(url))
    await settled()
    const anonymous = await trickle(url).answer
    expect(anonymous).toMatch(/^HTTP\/1\.1 429 /)
    expect(anonymous).toMatch(/\r\nRetry-After: 1\r\n/i)
    const byAgent = await post(url, '/verify', {}, agent.identity.credential)
    expect(byAgent.status).toBe(429)
    expect(((await byAgent.json()) as { code: string }).code).toBe('RATE_LIMITED')
    const byOperator = await post(url, '/agents/register', { name: 'op' }, token)
    expect(byOperator.status).toBe(201)
    // released when the held connections close: anonymous bodies are read again
    for (const s of sockets) s.destroy()
    await waitFor(async () => (await post(url, '/verify', {})).status !== 429, { timeout: 10_000 })
    expect(held.length).toBe(share)
  }, 60_000)

  it('count per client bucket, and a forwarded address does not multiply the count', async () => {
    const budget = {
      bytes: 64 * MIB,
      operatorReserve: 0,
      perClient: 2,
      minBytesPerSecond: 1024,
      deadlineBaseMs: 60_000,
    }
    const url = await start({ bodyBudget: budget, trustProxy: ['127.0.0.1'] })
    trickle(url, { 'X-Forwarded-For': '192.0.2.1' })
    trickle(url, { 'X-Forwarded-For': '192.0.2.2' })
    await settled()
    const third = await trickle(url, { 'X-Forwarded-For': '192.0.2.3' }).answer
    expect(third).toMatch(/^HTTP\/1\.1 429 /)
    const operator = await post(url, '/verify', {}, token) // a bucket of its own
    expect(operator.status).not.toBe(429)
  }, 60_000)
})
