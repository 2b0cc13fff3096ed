/**
 * A peer that does not answer pings (docs/protocol.md §9, decision 0038), on
 * two real libp2p nodes: as a peer on a loaded machine does, when its ping
 * handler stalls. libp2p's connection monitor pings every connection each
 * 10 s and by default aborts it on one failed ping, which made whole meshes
 * churn under load; a meshsig node keeps the connection, and gossip goes on
 * crossing it, until its ping watch has seen several failures in a row.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MeshP2P, PingWatchInit } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const TOPIC = 'meshsig/v1/messages'
const PING = '/ipfs/ping/1.0.0'
const started: MeshP2P[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()))
})

interface Libp2pLike {
  unhandle(protocol: string): Promise<void>
  handle(protocol: string, handler: () => void): Promise<void>
  addEventListener(event: 'connection:close', listener: () => void): void
}

const libp2pOf = (p2p: MeshP2P): Libp2pLike => (p2p as unknown as { libp2p: Libp2pLike }).libp2p

async function node(name: string, got: string[] = [], pingWatch?: PingWatchInit): Promise<MeshP2P> {
  const p2p = await rogueP2P(`ping-failure-${name}`, {
    onMessage: (_t, data) => got.push(new TextDecoder().decode(data)),
    ...(pingWatch !== undefined ? { pingWatch } : {}),
  })
  await p2p.start()
  started.push(p2p)
  return p2p
}

describe('a peer whose pings stall', () => {
  it('keeps its connection past two failed pings, and gossip still crosses it', async () => {
    const got: string[] = []
    const a = await node('a')
    const b = await node('b', got)
    // b takes ping streams and never answers them
    await libp2pOf(b).unhandle(PING)
    await libp2pOf(b).handle(PING, () => undefined)
    let closed = 0
    libp2pOf(a).addEventListener('connection:close', () => closed++)
    await a.dial(b.multiaddrs()[0]!)
    const opened = a.peers().map((p) => p.peerId)
    expect(opened).toEqual([b.peerId])
    // the watch's first ping (at 10 s) times out at 20 s, a second is under way; libp2p's monitor would have
    // aborted the connection at the first
    await new Promise((resolve) => setTimeout(resolve, 32_000))
    expect(closed).toBe(0) // the same connection: not aborted and dialled again
    expect(a.peers().map((p) => p.peerId)).toEqual([b.peerId])
    await waitFor(
      async () => {
        await a.publish(TOPIC, new TextEncoder().encode('still here')).catch(() => undefined)
        return got.includes('still here')
      },
      { timeout: 10_000, interval: 300, message: 'gossip crosses the connection' },
    )
  }, 60_000)

  it('is closed by the ping watch once it has answered no ping several times in a row (a cut link)', async () => {
    const a = await node('a3', [], { intervalMs: 1_000, timeoutMs: 1_000, maxFailures: 3 })
    const b = await node('b3')
    await libp2pOf(b).unhandle(PING)
    await libp2pOf(b).handle(PING, () => undefined)
    let closed = 0
    libp2pOf(a).addEventListener('connection:close', () => closed++)
    await a.dial(b.multiaddrs()[0]!)
    await waitFor(() => closed > 0, { timeout: 20_000, message: 'the ping watch closes the silent connection' })
  }, 30_000)
})
