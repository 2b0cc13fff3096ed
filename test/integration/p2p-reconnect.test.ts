/**
 * Bootstrap redial: when a bootstrap peer goes away and comes back (same
 * seed, same TCP port), the node reconnects on its own and gossip flows again.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { REGISTRY_TOPIC } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { bytes, deliveries, startPeer, stopAll, waitForLineMesh, type Peer } from './p2p-fixture.js'

describe('p2p bootstrap reconnection', () => {
  const started: Peer[] = []

  afterAll(async () => {
    await stopAll(started)
  })

  it('redials a restarted bootstrap peer and gossips with it again', async () => {
    const hub = await startPeer()
    started.push(hub)
    const hubAddr = hub.node.multiaddrs()[0]!
    const port = /\/tcp\/(\d+)\//.exec(hubAddr)![1]!
    const client = await startPeer({ bootstrap: [hubAddr] })
    started.push(client)
    const events: string[] = []
    client.node.events.addEventListener('peer:connect', (e) => events.push(`connect ${e.detail.peerId}`))
    client.node.events.addEventListener('peer:disconnect', (e) => events.push(`disconnect ${e.detail.peerId}`))
    await waitFor(() => client.node.peers().some((p) => p.peerId === hub.peerId), { timeout: 20_000 })

    await hub.node.stop()
    await waitFor(() => client.node.peers().length === 0, { timeout: 20_000, message: 'client sees the hub go' })
    expect(events).toContain(`disconnect ${hub.peerId}`)

    const reborn = await startPeer({ seed: hub.seed, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    started.push(reborn)
    expect(reborn.peerId).toBe(hub.peerId)
    await waitFor(() => client.node.peers().some((p) => p.peerId === hub.peerId), {
      timeout: 45_000,
      message: 'client redials the restarted hub',
    })
    expect(events.filter((e) => e === `connect ${hub.peerId}`).length).toBeGreaterThanOrEqual(1)

    await waitForLineMesh([client, reborn], REGISTRY_TOPIC)
    await client.node.publish(REGISTRY_TOPIC, bytes('after-restart'))
    await waitFor(() => deliveries(reborn, 'after-restart') === 1, { timeout: 20_000 })
  }, 120_000)
})
