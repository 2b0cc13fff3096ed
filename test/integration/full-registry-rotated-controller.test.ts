/**
 * A full node and a controller that rotated its key (attack reviews of
 * decision 0045). A first fix took a controller's key log on a full node
 * only from the peer whose PeerId is the key its DID names; a node that
 * rotated has the PeerId of its new key (docs/protocol.md §2), so its log
 * was never taken. A second one counted the logs of DIDs that are no agent
 * against the registry quota and took none past it. Either way the
 * controller's revocation of its own agent, signed with its current key,
 * was refused as a forgery and charged to it, and the agent stayed alive.
 * A full node takes the key log of an agent's first host (the controller
 * its first registration here named, which no renewal can name anew),
 * whoever delivers it (docs/protocol.md §7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRegistration,
  createRevocation,
  createRotation,
  encodeEnvelope,
  generateKeyPair,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P, SyncRequest } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry, rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
let a: MeshNode
let other: MeshP2P // delivers the agent's log and registration (any peer)
let c: MeshP2P // the controller node, after a rotation of its key: PeerId of k1
const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const x: KeyPair = generateKeyPair()
const cIcp = createInception(k0, Date.now() - 10_000, k1)
const cRot = createRotation(applyKeyEvent(undefined, cIcp), k0, k1, Date.now() - 5_000, k2)
const xIcp = createInception(x, Date.now() - 10_000)

function* controllerSync(request: SyncRequest): Generator<Uint8Array> {
  if (request.kind === 'self') {
    yield encodeEnvelope(cIcp)
    yield encodeEnvelope(cRot)
    return
  }
  yield* emptyRegistry(request)
}

beforeAll(async () => {
  a = await startNode({ init: { limits: { registry: { maxAgents: 1 } } } })
  other = await rogueP2P('full-other')
  await other.start()
  await other.dial(a.info().multiaddrs[0]!)
  await waitFor(() => other.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  c = await rogueP2P('full-controller', { seed: k1.seed, syncProvider: controllerSync })
  // the agent X, hosted by the controller node (its registration names it), fills the registry
  const reg = createRegistration(
    { did: xIcp.did, name: 'x', capabilities: [], controller: cIcp.did, peerId: c.peerId, ts: Date.now() },
    x,
  )
  await other.publish(REGISTRY, encodeEnvelope(xIcp))
  await other.publish(REGISTRY, encodeEnvelope(reg))
  await waitFor(() => a.store.agents.get(xIcp.did) !== undefined, { timeout: 15_000, message: 'agent stored' })
}, 60_000)

afterAll(async () => {
  await c?.stop()
  await other?.stop()
  await stopAll([a])
})

describe('a rotated controller on a full node', () => {
  it("takes the controller's log from the controller's own node, and its revocation of its agent", async () => {
    expect(a.store.agents.count()).toBe(1) // full
    expect(c.peerId).not.toBe(a.mesh.peerId)
    await c.start()
    await c.dial(a.info().multiaddrs[0]!)
    await waitFor(() => c.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
    // the controller's node hands its own log over: by gossip and by sync (pullSelf)
    await c.publish(REGISTRY, encodeEnvelope(cIcp))
    await c.publish(REGISTRY, encodeEnvelope(cRot))
    await waitFor(() => a.store.keyEvents.state(cIcp.did)?.seq === 1, { timeout: 20_000, message: 'log taken' })
    // the controller revokes its agent with its current key (k1)
    const rev = createRevocation(applyKeyEvent(undefined, xIcp), k1, 'compromised', Date.now())
    await c.publish(REGISTRY, encodeEnvelope(rev))
    await waitFor(
      () =>
        a.store.keyEvents.state(xIcp.did)?.revoked != null ||
        (a.store.misc.peerFaults().find((f) => f.peer === c.peerId)?.forged ?? 0) > 0,
      { timeout: 15_000, message: 'revocation judged' },
    )
    expect({
      revoked: a.store.keyEvents.state(xIcp.did)?.revoked?.by ?? null,
      controllerCharged: a.store.misc.peerFaults().find((f) => f.peer === c.peerId)?.forged ?? 0,
    }).toEqual({ revoked: 'controller', controllerCharged: 0 })
  }, 90_000)
})
