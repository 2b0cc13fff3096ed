/**
 * Review 107 L1 (decision 0078): a seed whose `/health` lists ~2,000
 * multiaddrs (64 KiB allows that) made the node dial every one of them, one
 * after another, on each try: nothing deduplicated or capped them. Now one
 * answer buys at most `MAX_SEED_ADDRS` dials. Every address here is the same
 * plain TCP listener (no libp2p behind it), which counts the connections;
 * the test counts work, it asserts no time.
 */
import { createServer as createHttp, type Server } from 'node:http'
import { createServer as createTcp, type Server as TcpServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { MAX_SEED_ADDRS } from '../../node/p2p/constants.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const nodes: MeshNode[] = []
let http: Server | undefined
let tcp: TcpServer | undefined
afterAll(async () => {
  await stopAll(nodes)
  http?.close()
  tcp?.close()
})

describe('seed peer: a /health with many multiaddrs', () => {
  it('dials a bounded number of addresses per /health answer', async () => {
    let connections = 0
    tcp = createTcp((s) => {
      connections += 1
      s.destroy()
    })
    await new Promise<void>((r) => tcp!.listen(0, '127.0.0.1', r))
    const tcpPort = (tcp.address() as AddressInfo).port
    const other = await startNode({ transports: 'tcp' }) // a PeerId that is not ours
    nodes.push(other)
    const body = JSON.stringify({
      peerId: other.info().peerId,
      multiaddrs: Array.from({ length: 2000 }, () => `/ip4/127.0.0.1/tcp/${tcpPort}`),
    })
    let hits = 0
    http = createHttp((_req, res) => {
      hits += 1
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    })
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r))
    const port = (http.address() as AddressInfo).port
    const self = await startNode({ transports: 'tcp', peers: [`http://127.0.0.1:${port}`] })
    nodes.push(self)
    await new Promise((r) => setTimeout(r, 8_000))
    expect(hits).toBeGreaterThan(0)
    expect(connections).toBeLessThanOrEqual(hits * MAX_SEED_ADDRS) // was 2,000 for one answer
  }, 40_000)
})
