/**
 * The same basics over the other transports: a strict line of three nodes on
 * the in-process memory transport (gossip, sync, DHT), and one pair over
 * WebSockets only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_TOPIC, MESSAGES_TOPIC } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { bytes, deliveries, startLine, startPeer, stopAll, waitForLineMesh, type Peer } from './p2p-fixture.js'

describe('p2p over the memory transport', () => {
  let line: Peer[] = []

  beforeAll(async () => {
    line = await startLine(3, { transports: 'memory', strict: true })
    await waitForLineMesh(line, AUDIT_TOPIC)
  }, 60_000)

  afterAll(async () => {
    await stopAll(line)
  })

  it('listens on /memory addresses and gossips two hops, once per node', async () => {
    const [first, , last] = line as [Peer, Peer, Peer]
    expect(first.node.multiaddrs()[0]).toMatch(/^\/memory\/.*\/p2p\//)
    await first.node.publish(AUDIT_TOPIC, bytes('chk-memory'))
    await last.node.publish(AUDIT_TOPIC, bytes('chk-memory-back'))
    await waitFor(() => deliveries(last, 'chk-memory') === 1 && deliveries(first, 'chk-memory-back') === 1, {
      timeout: 20_000,
    })
    expect(deliveries(line[1]!, 'chk-memory')).toBe(1)
    expect(last.received.find((d) => d.text === 'chk-memory')).toMatchObject({ from: first.peerId })
  })

  it('syncs and finds a provider between neighbours', async () => {
    const [first, second] = line as [Peer, Peer]
    first.syncItems = [bytes('reg-1')]
    const items = await second.node.sync(first.peerId, { kind: 'registry' })
    expect(items.map((i) => new TextDecoder().decode(i))).toEqual(['reg-1'])
    await first.node.provideCapability('memory-cap', { timeoutMs: 20_000 })
    const found = await waitFor(
      async () => {
        const providers = await second.node.findCapabilityProviders('memory-cap', { timeoutMs: 5_000 })
        return providers.length > 0 ? providers : undefined
      },
      { timeout: 30_000, interval: 250 },
    )
    expect(found).toEqual([first.peerId])
  })

  it('publishes with no peer subscribed without throwing', async () => {
    const lone = await startPeer({ transports: 'memory' })
    try {
      expect(await lone.node.publish(MESSAGES_TOPIC, bytes('nobody-listens'))).toEqual({ recipients: 0 })
      await expect(lone.node.publish('meshsig/v1/other' as never, bytes('x'))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      })
      await expect(lone.node.publish(MESSAGES_TOPIC, new Uint8Array(0))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      })
    } finally {
      await stopAll([lone])
    }
  })
})

describe('p2p over WebSockets', () => {
  let a: Peer
  let b: Peer

  beforeAll(async () => {
    a = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    const wsAddr = a.node.multiaddrs().find((m) => m.includes('/ws/'))!
    b = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], bootstrap: [wsAddr] })
    await waitForLineMesh([a, b], MESSAGES_TOPIC)
  }, 60_000)

  afterAll(async () => {
    await stopAll([a, b])
  })

  it('connects over /ws, gossips and syncs', async () => {
    expect(b.node.peers()).toEqual([expect.objectContaining({ peerId: a.peerId, direction: 'outbound' })])
    expect(b.node.peers()[0]!.addrs[0]).toMatch(/\/ws\//)
    expect(b.node.subscribers(MESSAGES_TOPIC)).toEqual([a.peerId])
    await b.node.publish(MESSAGES_TOPIC, bytes('over-ws'))
    await waitFor(() => deliveries(a, 'over-ws') === 1, { timeout: 20_000 })
    a.syncItems = [bytes('ws-item')]
    expect((await b.node.sync(a.peerId, { kind: 'registry' })).length).toBe(1)
  })
})
