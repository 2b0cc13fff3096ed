/**
 * Review 120 H1 (decision 0085): a rogue gossips the inception of a DID X it
 * made (held: X has no registration here) and then forged rotations of X. The
 * pool appended them to X's held log unchecked; when the node later pulled
 * X's registration by sync from an honest peer H, the registration released
 * the forgeries and they were charged to H: past 32, H was banned, scored
 * down and hung up on. DIDs are free, so the rogue could do this to every
 * honest peer of the node. Now each forgery is refused as it arrives and
 * charged to the rogue, and a released event is charged to whoever sent it.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEnvelope, envelopeId, MeshsigError, toB64, type Envelope, type KeyEvent } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { RegistryIndex } from '../../node/services/sync-index.js'
import { answerSync } from '../../node/services/sync.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { signAgentsWithKeys } from '../helpers/registry-fill.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const FORGED = 40

/** A registry serving the one DID of `icp` and `reg` by sync. */
function registryOf(icp: KeyEvent, reg: Extract<Envelope, { type: 'reg' }>): RegistryIndex {
  const row = { did: reg.did, regId: envelopeId(reg), regEnvelope: JSON.stringify(reg), controller: reg.controller }
  const index = new RegistryIndex({
    selfDid: 'did:msig:none',
    store: {
      keyEvents: {
        allDids: () => [icp.did],
        log: (d: string) => (d === icp.did ? [icp] : []),
        byId: (id: string) => (id === envelopeId(icp) ? icp : undefined),
      },
      agents: { get: (d: string) => (d === reg.did ? row : undefined), list: () => [row] },
    } as never,
  })
  index.load()
  return index
}

/** A rotation of `icp`'s DID at seq 1 with random signatures. */
function forgedRotation(icp: KeyEvent): Uint8Array {
  const rot = {
    ...{ v: 1, type: 'rot', did: icp.did, seq: 1, prev: envelopeId(icp), key: toB64(randomBytes(32)), next: null },
    ...{ ts: Date.now(), sig: toB64(randomBytes(64)), sig2: toB64(randomBytes(64)) },
  }
  return encodeEnvelope(rot as unknown as Envelope)
}

describe('forgeries gossiped for a held inception', () => {
  const nodes: MeshNode[] = []
  const rogues: MeshP2P[] = []
  afterAll(async () => {
    await Promise.all(rogues.map((r) => r.stop()))
    await stopAll(nodes)
  })

  it('are charged to the rogue that sent them, not to the honest peer that later serves the registration', async () => {
    const honest = await startNode()
    nodes.push(honest)
    const node = await startNode({ peers: [honest.info().multiaddrs[0]!] })
    nodes.push(node)
    const client = (node as unknown as { parts: NodeParts }).parts.registrySync.client
    const H = honest.info().peerId
    await waitFor(() => node.mesh.peers().some((p) => p.peerId === H), { timeout: 20_000 })
    await client.round(H) // the first rounds settled

    // the rogue's own DID X; it serves X by sync to anyone but the node (no round with it: nothing dropped)
    const [x] = signAgentsWithKeys(1, honest, 'blame')
    const [icp, reg] = x!.envelopes as [KeyEvent, Extract<Envelope, { type: 'reg' }>]
    const registry = registryOf(icp, reg)
    const victim = node.info().peerId
    const rogue = await rogueP2P('fx120-blame', {
      syncProvider: (request, from) => {
        if (from === victim) throw new MeshsigError('INVALID_INPUT', 'not serving')
        return answerSync(registry, request)
      },
    })
    rogues.push(rogue)
    await rogue.start()
    await rogue.dial(node.info().multiaddrs[0]!)
    await waitFor(() => rogue.meshPeers('meshsig/v1/registry').includes(victim), { timeout: 20_000 })

    await rogue.publish('meshsig/v1/registry', encodeEnvelope(icp))
    const admission = (node as unknown as { parts: NodeParts }).parts.registrySync.admission
    await waitFor(() => admission.size() >= 1, { timeout: 15_000, message: 'inception held' })
    for (let i = 0; i < FORGED; i++) await rogue.publish('meshsig/v1/registry', forgedRotation(icp))
    const forgedBy = (peer: string): number => node.store.misc.peerFaults().find((f) => f.peer === peer)?.forged ?? 0
    // (before decision 0085 the forgeries were held silently: this wait ran out)
    await waitFor(() => forgedBy(rogue.peerId) >= FORGED, { timeout: 15_000 }).catch(() => undefined)

    // H takes X from the rogue by sync (it does not gossip what it takes so); the node then syncs with H
    await rogue.dial(honest.info().multiaddrs[0]!)
    await waitFor(() => honest.store.agents.get(icp.did) !== undefined, { timeout: 30_000, message: 'H took X' })
    expect(node.store.agents.get(icp.did)).toBeUndefined() // the node has no other way to X
    await client.round(H)

    expect(node.store.agents.get(icp.did)).toBeDefined() // the round took X
    expect(client.isBanned(H)).toBe(false)
    expect(node.mesh.peers().some((p) => p.peerId === H)).toBe(true)
    expect(forgedBy(H)).toBe(0)
    expect(forgedBy(rogue.peerId)).toBeGreaterThan(0) // the rogue pays for its forgeries
  }, 180_000)
})
