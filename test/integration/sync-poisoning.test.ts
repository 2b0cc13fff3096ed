/**
 * Sync poisoning (issue 9) with a real rogue libp2p peer: it answers
 * `/meshsig/sync/1.0.0` with a 100,000-item flood and gossips up to 50,000
 * valid self-signed inceptions nobody registered. The victim keeps answering
 * /health, stores none of it, ends the rogue's connection with a negative
 * gossipsub score, and a fresh node still learns real agents from it.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createInception, encodeEnvelope, generateKeyPair } from '../../node/core/index.js'
import { createMeshP2P, type MeshP2P, type SyncRequest } from '../../node/p2p/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { waitFor } from '../helpers/wait-for.js'

/** A fresh valid inception of a DID nobody registered (what costs an attacker nothing). */
function emptyInception(): Uint8Array {
  return encodeEnvelope(createInception(generateKeyPair(), Date.now()))
}

/** Signed ahead: the rogue shares this test's process, and its signing time is not the victim's. */
const POOL = Array.from({ length: 512 }, emptyInception)

/** The rogue's answer to any sync request: a claim of 100,000 items, then up to 100,000 of them. */
function* flood(request: SyncRequest): Generator<Uint8Array> {
  if (request.kind === 'fp') {
    const n = request.prefixes.length * (request.children === true ? 16 : 1)
    for (let i = 0; i < n; i++) yield Uint8Array.of(0, 1, 0x86, 0xa0, ...randomBytes(16))
    return
  }
  for (let i = 0; i < 100_000; i++) yield POOL[i % POOL.length]!
}

describe('a rogue peer poisoning registry sync', () => {
  let fx: ApiFixture | undefined
  let rogue: MeshP2P | undefined
  let fresh: MeshNode | undefined
  afterAll(async () => {
    await rogue?.stop()
    await stopAll([fresh])
    await fx?.stop()
  })

  it('costs the rogue, not the victim', async () => {
    fx = await startApi()
    const real = await fx.call('POST', '/agents/register', { name: 'real-agent' })
    const realDid = (real.body as { identity: { did: string } }).identity.did
    const victim = fx.node
    const didsBefore = victim.store.keyEvents.allDids().length
    const slow: string[] = []
    let polling = true
    const poller = (async () => {
      while (polling) {
        const t = fetch(`${fx!.url}/health`, { signal: AbortSignal.timeout(1_000) })
        await t
          .then((r) => r.ok || slow.push(`status ${r.status}`))
          .catch((e: Error) => slow.push(`${e.name} at ${Date.now()}`))
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    rogue = await createMeshP2P({
      seed: new Uint8Array(randomBytes(32)),
      transports: 'memory',
      listen: [`/memory/rogue-${process.pid}-${Date.now()}`],
      heartbeatInterval: 200,
      validate: () => 'accept',
      onMessage: () => undefined,
      syncProvider: (request) => flood(request),
    })
    await rogue.start()
    await rogue.dial(victim.info().multiaddrs[0]!)
    const rogueId = rogue.peerId
    // the gossip flood: valid inceptions until 50,000 are out or the victim hung up
    let published = 0
    while (published < 50_000 && victim.peers().some((p) => p.peerId === rogueId)) {
      await rogue.publish('meshsig/v1/registry', emptyInception()).catch(() => undefined)
      published++
      if (published % 4 === 0) await new Promise((r) => setTimeout(r, 1)) // the rogue shares this process: let it breathe
    }
    await waitFor(() => !victim.peers().some((p) => p.peerId === rogueId), { message: 'rogue disconnected' })
    const score = (victim as unknown as { p2pNode: MeshP2P }).p2pNode.peerScore(rogueId)
    expect(score).toBeLessThan(0)
    expect(victim.store.misc.peerFaults().find((f) => f.peer === rogueId)?.forged ?? 0).toBeGreaterThan(0)
    expect(victim.store.keyEvents.allDids().length).toBe(didsBefore) // no empty DID stored

    fresh = await startNode({ peers: [victim.info().multiaddrs[0]!] })
    await waitFor(() => fresh!.store.agents.get(realDid), { message: 'fresh node learns the real agent' })
    polling = false
    await poller
    expect(slow).toEqual([])
  }, 60_000)
})
