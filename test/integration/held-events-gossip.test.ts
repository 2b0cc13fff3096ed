/**
 * Review 120 M1 end to end (decision 0085): a rogue libp2p peer gossips empty
 * inceptions (held for it, never stored) and then forged revocations and
 * rotations of those DIDs. The node held every one of them in memory,
 * ignored them (nothing charged) and, since the rogue refuses the sync probe,
 * never ran the round that would have dropped them. Now a forged rotation
 * is the rogue's forgery, and of the revocations its own key did not sign
 * (maybe its controller's, unknown here) one per DID is held, checked when
 * the registration names the controller (decision 0087); the rest are left
 * to a later sync, unchecked.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createInception,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  MeshsigError,
  toB64,
  type Envelope,
  type KeyEvent,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const DIDS = 64
const REVS = 8

/** A key event of `icp`'s DID at seq 1 with random signatures. */
function forged(icp: KeyEvent, type: 'rot' | 'rev'): Uint8Array {
  const head = { v: 1, type, did: icp.did, seq: 1, prev: envelopeId(icp), ts: Date.now(), sig: toB64(randomBytes(64)) }
  const event =
    type === 'rot'
      ? { ...head, key: toB64(randomBytes(32)), next: null, sig2: toB64(randomBytes(64)) }
      : { ...head, reason: 'x'.repeat(512) }
  return encodeEnvelope(event as unknown as Envelope)
}

describe('forged key events of held inceptions over gossip', () => {
  const nodes: MeshNode[] = []
  const rogues: MeshP2P[] = []
  afterAll(async () => {
    await Promise.all(rogues.map((r) => r.stop()))
    await stopAll(nodes)
  })

  it('are not kept in memory, a forged rotation is charged to the rogue, and its holds go when it leaves', async () => {
    const node = await startNode()
    nodes.push(node)
    const admission = (node as unknown as { parts: NodeParts }).parts.registrySync.admission
    const rogue = await rogueP2P('fx120-held', {
      syncProvider: () => {
        throw new MeshsigError('INVALID_INPUT', 'not serving')
      },
    })
    rogues.push(rogue)
    await rogue.start()
    await rogue.dial(node.info().multiaddrs[0]!)
    await waitFor(() => rogue.meshPeers('meshsig/v1/registry').includes(node.info().peerId), { timeout: 20_000 })
    const icps = Array.from({ length: DIDS }, () => createInception(generateKeyPair(), Date.now()))
    for (const icp of icps) await rogue.publish('meshsig/v1/registry', encodeEnvelope(icp))
    await waitFor(() => admission.size() >= DIDS, { timeout: 30_000, message: 'inceptions held' })

    for (const icp of icps) {
      for (let s = 0; s < REVS; s++) await rogue.publish('meshsig/v1/registry', forged(icp, 'rev'))
    }
    // gossip from one peer is validated in order: once a later rotation is charged, every revocation was seen
    await rogue.publish('meshsig/v1/registry', forged(icps[0]!, 'rot'))
    const forgedBy = (): number => node.store.misc.peerFaults().find((f) => f.peer === rogue.peerId)?.forged ?? 0
    await waitFor(() => forgedBy() > 0, { timeout: 15_000 }).catch(() => undefined)

    expect(forgedBy()).toBe(1)
    expect(admission.size()).toBe(DIDS)
    expect(admission.events()).toBe(DIDS) // the first revocation of each DID, no more (before review 120: 8 each)

    // and what is held for the rogue goes when it hangs up
    await rogue.stop()
    rogues.pop()
    await waitFor(() => admission.size() === 0, { timeout: 15_000, message: 'held inceptions dropped' })
  }, 300_000)
})
