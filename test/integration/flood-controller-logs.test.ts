/**
 * Renewals naming fresh controllers, from a real rogue libp2p peer (attack
 * reviews of decision 0045). A node takes the key log of a DID a stored
 * agent names as controller (it checks that controller's revocations with
 * it, docs/protocol.md §6), with its rotations, and each renewal may name a
 * new one: one registered DID made even a full node store new DIDs' logs
 * without end. Now the key log of a DID that is no agent takes a place of
 * the registry quota like an agent (docs/protocol.md §7): a full node
 * stores none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRegistration,
  createRotation,
  encodeEnvelope,
  generateKeyPair,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { gossipMarker, rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const RENEWALS = 3
const CONTROLLERS = 6
const ROTATIONS = 3
let a: MeshNode
let rogue: MeshP2P
const x: KeyPair = generateKeyPair()
let did = ''

function registration(controller: string, ts: number): Uint8Array {
  const init = { did, name: 'x', capabilities: [], controller, peerId: rogue.peerId, ts }
  return encodeEnvelope(createRegistration(init, x))
}

/** Gossip a message from the DID and wait until `a` took it: `a` has handled all gossiped before it. */
function marker(): Promise<void> {
  return gossipMarker(rogue, a, x, did, 'marker')
}

beforeAll(async () => {
  a = await startNode({ init: { limits: { registry: { maxAgents: 1, renewalsPerDid: RENEWALS } } } })
  rogue = await rogueP2P('controller-logs')
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  const icp = createInception(x, Date.now())
  did = icp.did
  await rogue.publish(REGISTRY, registration(did, Date.now()))
  await rogue.publish(REGISTRY, encodeEnvelope(icp))
  await waitFor(() => a.store.agents.get(did) && a.store.keyEvents.state(did), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

describe('renewals naming fresh controllers on a full node', () => {
  it('leave a full node storing no new controller log', async () => {
    expect(a.store.agents.count()).toBe(1) // full: maxAgents 1
    const t0 = Date.now()
    for (let i = 1; i <= CONTROLLERS; i++) {
      let k = generateKeyPair()
      let next = generateKeyPair()
      const icp = createInception(k, t0, next)
      await rogue.publish(REGISTRY, registration(icp.did, t0 + i))
      await rogue.publish(REGISTRY, encodeEnvelope(icp))
      let state = applyKeyEvent(undefined, icp)
      for (let r = 0; r < ROTATIONS; r++) {
        const after = generateKeyPair()
        const rot = createRotation(state, k, next, Date.now(), after)
        state = applyKeyEvent(state, rot)
        await rogue.publish(REGISTRY, encodeEnvelope(rot))
        ;[k, next] = [next, after]
      }
    }
    await marker()
    const logs = a.store.keyEvents.allDids().filter((d) => d !== did && d !== a.info().did)
    // before: each controller's log, with its rotations, stored on the full node (8 of 8 without the budget)
    expect({ agents: a.store.agents.count(), newLogs: logs.length }).toEqual({ agents: 1, newLogs: 0 })
    expect(a.store.agents.get(did)?.controller).not.toBe(did) // the renewals themselves were taken
  }, 120_000)
})
