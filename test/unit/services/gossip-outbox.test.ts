// The gossip outbox (node/services/gossip-outbox.ts) on the fake mesh: a publication that reached
// nobody while peers are connected is retried until a subscriber takes it or it expires; with no
// peer at all it is left to anti-entropy sync (docs/protocol.md §9); the queue is bounded, the
// oldest publication dropped first and counted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MeshsigError } from '../../../node/core/errors.js'
import { decodeEnvelope, encodeEnvelope } from '../../../node/core/index.js'
import { REGISTRY_TOPIC } from '../../../node/p2p/constants.js'
import { GossipOutbox, OUTBOX_TTL_MS } from '../../../node/services/gossip-outbox.js'
import { waitFor } from '../../helpers/wait-for.js'
import { FakeNetwork, type FakeP2P } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent, kitNode } from '../../helpers/service-kit.js'

let net: FakeNetwork
let self: FakeP2P
let peer: FakeP2P
let clock: FixedClock
let errors: unknown[]
let received: string[]

function outbox(maxPending?: number): GossipOutbox {
  return new GossipOutbox({
    p2p: () => self,
    onError: (err) => errors.push(err),
    clock: clock.now,
    ...(maxPending !== undefined ? { maxPending } : {}),
  })
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const subscribePeer = (): void =>
  peer.subscribe(REGISTRY_TOPIC, (data) => received.push(new TextDecoder().decode(data)))

let box: GossipOutbox | undefined
beforeEach(() => {
  net = new FakeNetwork()
  self = net.node('self')
  peer = net.node('peer')
  clock = new FixedClock()
  errors = []
  received = []
})
afterEach(() => box?.stop())

describe('gossip outbox', () => {
  it('delivers at once to a subscribed peer and queues nothing', async () => {
    box = outbox()
    net.connect(self, peer)
    subscribePeer()
    expect(await box.publish(REGISTRY_TOPIC, bytes('reg-1'))).toBe(1)
    expect(received).toEqual(['reg-1'])
    expect(box.pendingCount()).toBe(0)
  })

  it('with no peer connected, builds and signs nothing and leaves it to anti-entropy (nothing queued)', async () => {
    box = outbox()
    expect(await box.publish(REGISTRY_TOPIC, bytes('reg-1'))).toBe(0)
    expect(self.published).toHaveLength(0)
    expect(box.pendingCount()).toBe(0)
  })

  it('retries a publication while the connected peer has not subscribed yet, then delivers it once', async () => {
    box = outbox()
    net.connect(self, peer)
    expect(await box.publish(REGISTRY_TOPIC, bytes('reg-1'))).toBe(0)
    await box.retry()
    expect(box.pendingCount()).toBe(1)
    expect(self.published).toHaveLength(1) // no subscriber: the retry did not publish in vain
    subscribePeer()
    await box.retry()
    expect(received).toEqual(['reg-1'])
    expect(box.pendingCount()).toBe(0)
    await box.retry()
    expect(received).toEqual(['reg-1'])
  })

  it('drops a publication nobody took within its time to live', async () => {
    box = outbox()
    net.connect(self, peer)
    await box.publish(REGISTRY_TOPIC, bytes('reg-1'))
    clock.advance(OUTBOX_TTL_MS + 1)
    subscribePeer()
    await box.retry()
    expect(received).toEqual([])
    expect(box.pendingCount()).toBe(0)
  })

  it('keeps at most maxPending publications, dropping the oldest first and counting them', async () => {
    box = outbox(3)
    net.connect(self, peer)
    for (const i of [1, 2, 3, 4, 5]) await box.publish(REGISTRY_TOPIC, bytes(`reg-${i}`))
    expect(box.pendingCount()).toBe(3)
    expect(box.dropped()).toBe(2)
    subscribePeer()
    await box.retry()
    expect(received).toEqual(['reg-3', 'reg-4', 'reg-5'])
  })

  it('reports a failed publish and keeps the publication for a retry', async () => {
    box = outbox()
    net.connect(self, peer)
    const failure = new MeshsigError('PEER_ERROR', 'stream reset')
    self.failNextPublish = failure
    expect(await box.publish(REGISTRY_TOPIC, bytes('reg-1'))).toBe(0)
    expect(errors).toEqual([failure])
    subscribePeer()
    await box.retry()
    expect(received).toEqual(['reg-1'])
  })

  it('carries a registration from one in-memory node to another, which ingests it as gossip', async () => {
    const sender = kitNode({ seed: 'sender', clock })
    const receiver = kitNode({ seed: 'receiver', clock })
    peer.subscribe(REGISTRY_TOPIC, (data, from) => {
      receiver.ingest.ingest(decodeEnvelope(data), { kind: 'gossip', peer: from }, { fresh: false })
    })
    net.connect(self, peer)
    box = outbox()
    const agent = kitAgent(sender.random, clock.ms, { controller: sender.did, peerId: 'self' })
    for (const e of [agent.icp, agent.reg]) expect(await box.publish(REGISTRY_TOPIC, encodeEnvelope(e))).toBe(1)
    expect(receiver.store.agents.get(agent.did)).toMatchObject({ name: 'agent', origin: 'remote' })
    expect(receiver.emitted.map((e) => e.type)).toEqual(['agent:registered'])
    sender.close()
    receiver.close()
  })

  it('retries nothing while stopped, and what was queued once started again (a mesh move to a new key)', async () => {
    box = outbox()
    net.connect(self, peer)
    await box.publish(REGISTRY_TOPIC, bytes('reg-1'))
    box.stop()
    expect(await box.publish(REGISTRY_TOPIC, bytes('reg-2'))).toBe(0) // not kept: the outbox is stopped
    subscribePeer()
    await box.retry()
    expect(received).toEqual([])
    box.start()
    await waitFor(() => received.length > 0) // the retry timer runs again
    expect(received).toEqual(['reg-1'])
    expect(box.pendingCount()).toBe(0)
  })
})
