import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient, type StreamEvent } from '../../node/index.js'
import { generateKeyPair, keyPairFromB64, toB64 } from '../../node/core/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('MeshsigClient (SDK, exported from the package root) against a real node', () => {
  let fx: ApiFixture
  let client: MeshsigClient
  beforeAll(async () => {
    fx = await startApi()
    client = new MeshsigClient({ server: fx.url + '/', token: fx.token })
  })
  afterAll(() => fx.stop())

  it('subscribes where the runtime has no global WebSocket (Node 20 without the polyfill): snapshot first', async () => {
    const g = globalThis as { WebSocket?: unknown }
    const saved = g.WebSocket
    delete g.WebSocket
    const events: StreamEvent[] = []
    let stop: () => void = () => undefined
    try {
      stop = client.subscribe((e) => events.push(e))
    } finally {
      g.WebSocket = saved
    }
    await waitFor(() => events.length > 0, { message: 'the snapshot arrives' })
    expect(events[0]!.type).toBe('snapshot')
    stop()
  })

  it('covers every endpoint', async () => {
    const events: StreamEvent[] = []
    const stop = client.subscribe((e) => events.push(e))
    expect((await client.health()).did).toBe(fx.node.did)
    const a = await client.register({ name: 'a', capabilities: [{ type: 'analysis' }] })
    const own = generateKeyPair()
    const b = await client.registerWithKey(own, { name: 'b' }, generateKeyPair())
    expect(b.identity.privateKey).toBeUndefined()
    expect((await client.agent(b.identity.did)).name).toBe('b')
    expect((await client.agents({ capability: 'analysis' })).total).toBe(1)
    expect((await client.discover({ capability: 'analysis' })).agents).toHaveLength(1)
    expect((await client.discoverNetwork({ capability: 'analysis' })).local).toHaveLength(1)
    const sent = await client.send({ fromDid: a.identity.did, toDid: b.identity.did, message: 'hi' })
    const signed = await client.sendSigned(own, { from: b.identity.did, to: a.identity.did, message: 'hi back' })
    expect(signed.from).toBe(b.identity.did)
    expect((await client.verifyMessage({ envelope: sent.envelope })).valid).toBe(true)
    const sig = toB64(keyPairFromB64(a.identity.privateKey!).sign(Buffer.from('m')))
    expect((await client.verify({ message: 'm', signature: sig, did: a.identity.did })).valid).toBe(true)
    await expect(client.handshake({ fromDid: a.identity.did, toDid: b.identity.did })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const hs = await client.handshake({ fromDid: b.identity.did, toDid: a.identity.did, privateKey: toB64(own.seed) })
    expect(hs.established).toBe(true)
    expect((await client.connections()).total).toBe(1)
    expect((await client.messages({ did: a.identity.did, limit: 5 })).messages).toHaveLength(2)
    expect((await client.rotateKey({ did: a.identity.did })).keySeq).toBe(1)
    expect((await client.revoke({ did: b.identity.did, reason: 'done' })).revoked).toBe(true)
    expect((await client.revoked()).total).toBe(1)
    expect((await client.stats()).agents).toBe(2)
    expect((await client.snapshot()).agents).toHaveLength(2)
    expect((await client.peers()).total).toBe(0)
    expect((await client.auditExport()).summary.totalMessages).toBe(2)
    expect(await client.metrics()).toContain('meshsig_http_requests_total')
    await waitFor(() => events.some((e) => e.type === 'agent:revoked'))
    expect(events[0]!.type).toBe('snapshot')
    stop()
  })

  it('errors carry the node code; an unreachable node is UNREACHABLE', async () => {
    await expect(client.agent(`did:msig:${'6'.repeat(44)}`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { status: 404 },
    })
    await expect(client.connectPeer('not an address')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    const dead = new MeshsigClient({ server: 'http://127.0.0.1:1', timeoutMs: 2000 })
    await expect(dead.health()).rejects.toMatchObject({ code: 'UNREACHABLE' })
  })
})
