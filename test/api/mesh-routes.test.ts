import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

describe('peers and discovery across two nodes', () => {
  let n1: ApiFixture
  let n2: ApiFixture
  let analyst: string

  beforeAll(async () => {
    n1 = await startApi()
    n2 = await startApi()
    analyst = (
      await n1.call('POST', '/agents/register', {
        name: 'analyst',
        capabilities: [{ type: 'analysis', confidence: 0.8 }],
      })
    ).body.identity.did
  })
  afterAll(async () => {
    expectNo500(n1)
    expectNo500(n2)
    await n2.stop()
    await n1.stop()
  })

  it('POST /peers/connect with a multiaddr connects; GET /peers lists the peer', async () => {
    const addr = (await n1.call('GET', '/health')).body.multiaddrs[0]
    const r = await n2.call('POST', '/peers/connect', { address: addr })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ connected: true, peerIds: [n1.node.info().peerId] })
    await waitFor(async () => (await n2.call('GET', '/peers')).body.total === 1)
    expect((await n2.call('GET', '/peers')).body.peers[0].peerId).toBe(n1.node.info().peerId)
  })

  it('POST /peers/connect with the seed form ws://host:port resolves the node through its /health', async () => {
    const n3 = await startApi()
    try {
      const r = await n3.call('POST', '/peers/connect', { url: n1.url.replace('http://', 'ws://') })
      expect(r.status).toBe(200)
      expect(r.body.peerIds).toEqual([n1.node.info().peerId])
    } finally {
      await n3.stop()
    }
  })

  it('bad addresses are 400; an address nobody answers is 502 UNREACHABLE', async () => {
    for (const body of [
      {},
      { address: 'nonsense' },
      { address: 'a', url: 'b' },
      { address: 5 },
      { address: '/ip4/1.2.3.4', x: 1 },
      { address: '/ip4/999.1.1.1/tcp/1' }, // not a multiaddr, not a peer that does not answer
      { address: '/ip4/127.0.0.1/tcp/1/p2p/x' }, // a /p2p/ part that is no PeerId
    ]) {
      const r = await n2.call('POST', '/peers/connect', body)
      expect(r.status).toBe(400)
      expect(['INVALID_INPUT', 'MALFORMED']).toContain(r.body.code)
    }
    const r = await n2.call('POST', '/peers/connect', { address: 'ws://127.0.0.1:1' })
    expect(r.status).toBe(502)
    expect(r.body.code).toBe('UNREACHABLE')
  })

  it('POST /discover finds local agents by capability; bad bodies are 400', async () => {
    const r = await n1.call('POST', '/discover', { capability: 'analysis', minConfidence: 0.5 })
    expect(r.body).toMatchObject({ total: 1, agents: [{ did: analyst }] })
    expect((await n1.call('POST', '/discover', { capability: 'analysis', minConfidence: 0.9 })).body.total).toBe(0)
    expect((await n1.call('POST', '/discover', {})).body.total).toBe(1)
    for (const body of [{ limit: 0 }, { minConfidence: 2 }, { capability: 7 }, { capability: 'a', extra: true }]) {
      const bad = await n1.call('POST', '/discover', body)
      expect(bad.status).toBe(400)
      expect(bad.body.code).toBe('INVALID_INPUT')
    }
  })

  it('POST /discover/network finds the agent of the other node through the DHT', async () => {
    const found = await waitFor(
      async () => {
        const r = await n2.call('POST', '/discover/network', { capability: 'analysis' })
        return r.body.remote?.find((m: { record: { did: string } }) => m.record.did === analyst) ? r.body : undefined
      },
      { timeout: 25_000, interval: 300 },
    )
    expect(found.total).toBe(found.local.length + found.remote.length)
    expect(found.remote[0].provider).toBe(n1.node.info().peerId)
    for (const body of [{}, { capability: '' }, { capability: 'analysis', limit: 5000 }]) {
      expect((await n2.call('POST', '/discover/network', body)).status).toBe(400)
    }
  })
})
