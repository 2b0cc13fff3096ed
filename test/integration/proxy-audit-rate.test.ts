// Each request the proxy signs writes two durable audit entries, whether the gateway answers or not. Attack
// review 93 (F7): nothing bounded the rate, so a caller of a listener that signs (its agent; with
// --proxy-sign-as-node any local user) grew the log without limit: 2,000 requests to a dead gateway, 4,000
// entries in 16 s. Each listener now signs at most `limits.proxy.signedRequestsPerMinute` requests a minute
// (a token bucket); past it 429 before anything is read, signed or audited. Counted with a frozen clock.
import { Agent, request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNodeProxy, type NodeProxy } from '../../node/proxy/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const PER_MINUTE = 20
let node: MeshNode
let now = Date.now()
const proxies: NodeProxy[] = []

beforeAll(async () => {
  // minCheckpointIntervalMs 0: audited() reads the whole log through the export
  node = await startNode({
    init: { minCheckpointIntervalMs: 0, limits: { proxy: { signedRequestsPerMinute: PER_MINUTE } } },
  })
})

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await stopAll([node])
})

const audited = (): number => node.audit.verifiable().entries.filter((e) => e.kind === 'proxy.request').length

function post(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/x', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end('hi')
  })
}

/** `n` requests at once over keep-alive connections: how many got each status. */
async function flood(port: number, n: number): Promise<Record<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  const statuses = await Promise.all(Array.from({ length: n }, () => post(port, agent)))
  agent.destroy()
  const counts: Record<number, number> = {}
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1
  return counts
}

describe('the requests one proxy listener signs, and audits', () => {
  it(`are at most ${PER_MINUTE} a minute, even to a dead gateway; each signed one is audited`, async () => {
    const alice = (await node.registerAgent('alice')).record.did
    const dead = await startNodeProxy(
      node,
      { listenPort: 0, targetHost: '127.0.0.1', targetPort: 1 }, // nothing listens: 502 UNREACHABLE
      {
        signAsNode: true,
        agents: [{ did: alice, port: 0, uid: 1001 }],
        checkRedirect: async () => ({ uid: 1001 }),
        clock: () => now,
      },
    )
    proxies.push(dead)
    const before = audited()
    // before the fix: { 502: 60 } and 120 entries
    expect(await flood(dead.port, 3 * PER_MINUTE)).toEqual({ 502: PER_MINUTE, 429: 2 * PER_MINUTE })
    expect(audited() - before).toBe(2 * PER_MINUTE) // every signed request, both entries; no refused one
    const refused = await fetch(dead.url + '/x', { method: 'POST', body: 'hi' })
    expect(refused.status).toBe(429)
    expect(await refused.json()).toMatchObject({
      code: 'RATE_LIMITED',
      error: expect.stringMatching(/already signed 20 requests in the last minute .*try again in 3 s/),
    })
    // another listener has a bucket of its own: the flood on the default one does not spend the agent's
    expect(await flood(dead.agentPorts.get(alice)!, 1)).toEqual({ 502: 1 })
    now += 30_000 // half a minute: half the tokens come back
    expect(await flood(dead.port, PER_MINUTE)).toEqual({ 502: PER_MINUTE / 2, 429: PER_MINUTE / 2 })
    expect(audited() - before).toBe(2 * (PER_MINUTE + 1 + PER_MINUTE / 2))
  })
})
