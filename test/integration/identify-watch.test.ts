/**
 * Connections gossip never attached to (docs/protocol.md §9), on two real
 * libp2p nodes. Identify that fails once on the connection between them, as
 * it does on a loaded machine (libp2p runs it once, with a 5 s deadline, and
 * drops the error): without the identify watch gossipsub never hears of the
 * peer, the connection stays open and no gossip crosses it; with it, gossip
 * flows within a few sweeps.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { IdentifyWatchInit, MeshP2P } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const TOPIC = 'meshsig/v1/messages'
const started: MeshP2P[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()))
})

interface IdentifyLike {
  identify(connection: { id: string }, options?: unknown): Promise<unknown>
}

/** Make identify fail the first time it runs on each connection of `p2p` (its later runs are real). */
function failFirstIdentify(p2p: MeshP2P): void {
  const identify = (p2p as unknown as { libp2p: { services: { identify: IdentifyLike } } }).libp2p.services.identify
  const real = identify.identify.bind(identify)
  const failed = new Set<string>()
  identify.identify = async (connection, options) => {
    if (failed.has(connection.id)) return real(connection, options)
    failed.add(connection.id)
    throw new Error('identify timed out (simulated load)')
  }
}

/** A started node on the memory transport whose first identify on each connection fails; it records what gossip brings it. */
async function node(name: string, identifyWatch: IdentifyWatchInit): Promise<{ p2p: MeshP2P; got: string[] }> {
  const got: string[] = []
  const p2p = await rogueP2P(`identify-watch-${name}`, {
    onMessage: (_topic, data) => got.push(new TextDecoder().decode(data)),
    identifyWatch,
  })
  failFirstIdentify(p2p)
  await p2p.start()
  started.push(p2p)
  return { p2p, got }
}

/** Publish `text` from `from` every 300 ms until `to` received it. */
async function gossipArrives(from: MeshP2P, to: { got: string[] }, text: string, timeout: number): Promise<void> {
  await waitFor(
    async () => {
      if (to.got.includes(text)) return true
      await from.publish(TOPIC, new TextEncoder().encode(text)).catch(() => undefined)
      return to.got.includes(text)
    },
    { timeout, interval: 300, message: `${text} arrives by gossip` },
  )
}

describe('a connection whose identify failed', () => {
  it('carries no gossip without the watch, though it stays open', async () => {
    const off: IdentifyWatchInit = { sweepMs: 3_600_000, graceMs: 0, maxAttempts: 3 }
    const a = await node('a1', off)
    const b = await node('b1', off)
    await a.p2p.dial(b.p2p.multiaddrs()[0]!)
    // both ends are connected, but neither gossipsub knows the other
    await expect(gossipArrives(a.p2p, b, 'lost', 4_000)).rejects.toThrow(/arrives by gossip/)
    expect(a.p2p.peers().map((p) => p.peerId)).toEqual([b.p2p.peerId])
    expect(a.p2p.subscribers(TOPIC)).toEqual([])
    expect(b.p2p.subscribers(TOPIC)).toEqual([])
  }, 30_000)

  it('is identified again by the watch, and gossip then crosses it both ways', async () => {
    const watch: IdentifyWatchInit = { sweepMs: 200, graceMs: 500, maxAttempts: 3 }
    const a = await node('a2', watch)
    const b = await node('b2', watch)
    await a.p2p.dial(b.p2p.multiaddrs()[0]!)
    await gossipArrives(a.p2p, b, 'a to b', 20_000)
    await gossipArrives(b.p2p, a, 'b to a', 20_000)
    expect(a.p2p.subscribers(TOPIC)).toEqual([b.p2p.peerId])
    expect(a.p2p.peers().map((p) => p.addrs.length)).toEqual([1]) // the same connection, not a new one
  }, 60_000)
})
