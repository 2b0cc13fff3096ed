/**
 * Review 107 M1 (decision 0078): a kept seed whose `/health` once names this
 * node's own PeerId (a seed name served by a pool that includes this node, or
 * anyone answering at the seed's address once) made libp2p throw
 * `InvalidPeerIdError('Can not dial self')`, read as `INVALID_INPUT`, and the
 * dialer dropped the seed for good: the real seed, answering later, was never
 * asked again. Now this node's own addresses are left out, and the answer is
 * an ordinary failure with backoff. Real nodes over TCP; the test counts
 * requests and checks the connection, it asserts no time.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const nodes: MeshNode[] = []
let server: Server | undefined
afterAll(async () => {
  await stopAll(nodes)
  server?.close()
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('seed peer: a /health naming the node itself', () => {
  it('keeps the seed: asked again, and connected, after it once answered with our own PeerId', async () => {
    const real = await startNode({ transports: 'tcp' })
    nodes.push(real)
    const started: { self?: MeshNode } = {}
    let hits = 0
    let selfAnswers = 0
    // phase 1: the seed name answers with this node's own identity
    let answer = (): object | undefined => {
      const { self } = started
      if (self === undefined) return undefined
      selfAnswers += 1
      return { peerId: self.info().peerId, multiaddrs: self.info().multiaddrs }
    }
    server = createServer((_req, res) => {
      hits += 1
      const body = answer()
      if (body === undefined) return void res.writeHead(503).end('not yet')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    const self = await startNode({ transports: 'tcp', peers: [`http://127.0.0.1:${port}`] })
    started.self = self
    nodes.push(self)
    for (let i = 0; i < 200 && selfAnswers === 0; i++) await sleep(100)
    expect(selfAnswers).toBe(1)
    await sleep(1_000)
    const phase1 = hits
    // phase 2: the seed name now answers with the real seed
    answer = () => ({ peerId: real.info().peerId, multiaddrs: real.info().multiaddrs })
    let connected = false
    for (let i = 0; i < 150 && !connected; i++) {
      await sleep(100)
      connected = self.peers().some((p) => p.peerId === real.info().peerId)
    }
    // before the fix: no request after phase 1 and not connected (the seed had been dropped)
    expect({ askedAgain: hits > phase1, connected }).toEqual({ askedAgain: true, connected: true })
  }, 40_000)
})
