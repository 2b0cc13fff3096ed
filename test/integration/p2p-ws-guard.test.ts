/**
 * The mesh's own WebSocket listener under SPEC §9's Host and Origin rules: a
 * browser (any `Origin`) and a DNS-rebound page (a foreign `Host`) are
 * refused with 403 before any WebSocket opens, while a libp2p node dialing
 * `/ws` by one of this node's names still connects and gossips. A connection
 * that sends nothing is closed (review 115 F1, decision 0083).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { WebSocket } from 'ws'
import { SILENT_CONNECTION_MS } from '../../node/limits.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

/** How an upgrade attempt ended: 101, or the refusal's status and body. */
interface UpgradeOutcome {
  readonly status: number
  readonly body: string
}

/** Try a WebSocket upgrade to `port` with extra headers (`Origin`, `Host`, …). */
function tryUpgrade(port: number, headers: Record<string, string> = {}): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers, handshakeTimeout: 5_000 })
    ws.on('upgrade', () => {
      resolve({ status: 101, body: '' })
      ws.terminate()
    })
    ws.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
        req.destroy()
      })
    })
    ws.on('error', reject)
  })
}

function wsPort(node: MeshNode): number {
  const addr = node.info().multiaddrs.find((m) => m.includes('/ws/'))
  const port = addr === undefined ? undefined : /\/tcp\/(\d+)\/ws\//.exec(addr)?.[1]
  if (port === undefined) throw new Error(`no /ws listen address in ${node.info().multiaddrs.join(' ')}`)
  return Number(port)
}

describe('the mesh WebSocket listener applies the API Host and Origin rules', () => {
  let a: MeshNode
  let b: MeshNode
  let port: number

  beforeAll(async () => {
    a = await startNode({ transports: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
    port = wsPort(a)
  })

  afterAll(() => stopAll([a, b]))

  it('refuses a browser Origin with 403 {error, code} and no 101', async () => {
    for (const origin of ['https://evil.example', `http://127.0.0.1:${port}`, 'null']) {
      const res = await tryUpgrade(port, { Origin: origin })
      expect(res.status, origin).toBe(403)
      expect(JSON.parse(res.body), origin).toEqual({ error: expect.stringMatching(/origin/i), code: 'FORBIDDEN' })
    }
  })

  it('refuses a Host header that does not name this node (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, 'attacker.127.0.0.1.nip.io']) {
      const res = await tryUpgrade(port, { Host: host })
      expect(res.status, host).toBe(403)
      expect(JSON.parse(res.body), host).toEqual({ error: expect.stringMatching(/Host/), code: 'FORBIDDEN' })
    }
  })

  it('lets a client without Origin that names this node upgrade', async () => {
    expect((await tryUpgrade(port)).status).toBe(101)
    expect((await tryUpgrade(port, { Host: `localhost:${port}` })).status).toBe(101)
    expect((await tryUpgrade(port, { Host: '[::1]' })).status).toBe(101)
  })

  it('a libp2p node dialing /ws still connects and gossips', async () => {
    const wsAddr = a.info().multiaddrs.find((m) => m.includes('/ws/'))!
    b = await startNode({ transports: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0/ws'], peers: [wsAddr] })
    await waitFor(() => b.mesh.meshPeers('meshsig/v1/registry').includes(a.mesh.peerId), { timeout: 20_000 })
    await waitFor(() => a.mesh.meshPeers('meshsig/v1/registry').includes(b.mesh.peerId), { timeout: 20_000 })
    expect(
      b.mesh
        .peers()
        .find((p) => p.peerId === a.mesh.peerId)
        ?.addrs.join(' '),
    ).toMatch(/\/ws\//)
    const { identity } = await a.registerAgent('over-guarded-ws', [{ type: 'analysis' }])
    await waitFor(() => b.agents.record(identity.did) !== undefined, { timeout: 15_000 })
    expect(b.agents.record(identity.did)?.origin).toBe('remote')
  })

  it('closes a connection that sends nothing, and keeps the libp2p one past that deadline (decision 0083)', async () => {
    const silent = connect(port, '127.0.0.1')
    let closed = false
    silent.on('error', () => undefined)
    silent.on('close', () => (closed = true))
    await waitFor(() => closed, { timeout: 4 * SILENT_CONNECTION_MS, message: 'silent connection closed' })
    expect(
      b.mesh
        .peers()
        .find((p) => p.peerId === a.mesh.peerId)
        ?.addrs.join(' '),
    ).toMatch(/\/ws\//)
    const { identity } = await a.registerAgent('after-silent-deadline', [{ type: 'analysis' }])
    await waitFor(() => b.agents.record(identity.did) !== undefined, { timeout: 15_000 })
  })
})
