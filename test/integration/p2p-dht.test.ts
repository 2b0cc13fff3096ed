/**
 * Capability discovery on the Kademlia DHT (`/meshsig/kad/1.0.0`) over
 * loopback TCP: in a line of four nodes, the third finds the first as a
 * provider of 'analysis', and nobody provides what nobody announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait-for.js'
import { startLine, stopAll, type Peer } from './p2p-fixture.js'

describe('p2p DHT capability discovery in a line of 4 TCP nodes', () => {
  let line: Peer[] = []

  beforeAll(async () => {
    line = await startLine(4, { transports: 'tcp+ws' })
  }, 60_000)

  afterAll(async () => {
    await stopAll(line)
  })

  it('finds node 1 from node 3 as provider of a capability node 1 announced', async () => {
    const [first, , third] = line as [Peer, Peer, Peer]
    await first.node.provideCapability('analysis', { timeoutMs: 20_000 })
    const found = await waitFor(
      async () => {
        const providers = await third.node.findCapabilityProviders('analysis', { timeoutMs: 5_000 })
        return providers.includes(first.peerId) ? providers : undefined
      },
      { timeout: 40_000, interval: 250, message: 'node 3 finds node 1 providing analysis' },
    )
    expect(found).toEqual([first.peerId])
  })

  it('leaves the asking node out and returns nothing for an unknown capability', async () => {
    const [first, second] = line as [Peer, Peer]
    await second.node.provideCapability('translation', { timeoutMs: 20_000 })
    const found = await waitFor(
      async () => {
        const providers = await first.node.findCapabilityProviders('translation', { timeoutMs: 5_000 })
        return providers.length > 0 ? providers : undefined
      },
      { timeout: 40_000, interval: 250 },
    )
    expect(found).toEqual([second.peerId])
    expect(await second.node.findCapabilityProviders('translation', { timeoutMs: 5_000 })).toEqual([])
    expect(await line[3]!.node.findCapabilityProviders('nobody-has-this', { timeoutMs: 5_000 })).toEqual([])
  })

  it('refuses an empty capability type', async () => {
    await expect(line[0]!.node.provideCapability('')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(line[0]!.node.findCapabilityProviders('x', { limit: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })
})
