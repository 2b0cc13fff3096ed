// A node rotates its key and its first checkpoint under the new key arrives before the rotation does
// (found by the second attack review of stop 32): the checkpoint verifies under the key the node
// committed to next (pre-rotation), so it is no forgery. The honest relay is not charged, nothing is
// stored, and a registry sync with the relay fetches the rotation. A checkpoint in the node's name
// by any other key is still a forgery: Reject, charged to the peer that relayed it.
import { afterEach, describe, expect, it } from 'vitest'
import {
  createCheckpoint,
  createInception,
  encodeEnvelope,
  generateKeyPair,
  peerIdFromPublicKey,
} from '../../../node/core/index.js'
import { CheckpointGate } from '../../../node/services/checkpoint-gate.js'
import { MeshGossip, type MeshGossipComponents } from '../../../node/services/mesh-gossip.js'
import { kitNode, type KitNode } from '../../helpers/service-kit.js'
import { waitFor } from '../../helpers/wait-for.js'

function fail(why: string): never {
  throw new Error(why)
}

let n: KitNode
let gossip: MeshGossip
const synced: string[] = []
afterEach(() => {
  gossip.stop()
  n.close()
})

function setUp(): void {
  n = kitNode()
  synced.length = 0
  const sync: MeshGossipComponents['sync'] = {
    isBanned: () => false,
    charge: () => undefined,
    sliceMs: 5_000,
    probe: () => Promise.resolve('differs'),
    round: async (peerId: string) => {
      synced.push(peerId)
      return { accepted: 0, duplicates: 0, rejected: 0, held: 0, bytes: 0, passes: 1 }
    },
  }
  gossip = new MeshGossip({
    store: n.store,
    ingest: n.ingest,
    sync,
    audit: { record: () => fail('no peer arrives in this test: nothing to audit') },
    events: n.events,
    outbox: { publish: () => Promise.resolve(0) },
    onError: () => undefined,
    checkpoints: new CheckpointGate({
      currentKey: (did) => n.store.keyEvents.state(did)?.key,
      hostsAgents: () => true,
      clock: n.clock.now,
    }),
  })
}

describe('a checkpoint under a key its origin has not yet been seen rotating to', () => {
  it('by the committed next key: ignored, nobody charged, the rotation synced from the relay', async () => {
    setUp()
    const [k1, k2] = [generateKeyPair(), generateKeyPair()]
    const icp = createInception(k1, n.clock.ms, k2)
    expect(n.ingest.ingest(icp, { kind: 'gossip', peer: 'someone' }, { fresh: false }).ok).toBe(true)
    const chk = createCheckpoint(icp.did, 5, new Uint8Array(32), n.clock.ms, k2)
    const publisher = peerIdFromPublicKey(k2.publicKey)
    expect(gossip.validate('meshsig/v1/audit', encodeEnvelope(chk), 'honest-relay', publisher)).toBe('ignore')
    expect(n.store.misc.peerFaults().find((f) => f.peer === 'honest-relay')?.forged ?? 0).toBe(0)
    expect(n.store.auditEntries.remoteCheckpoints(icp.did)).toEqual([])
    await waitFor(() => synced.includes('honest-relay') || undefined)
  })

  it('by any other key: a forgery, rejected and charged to the relay', () => {
    setUp()
    const [k1, k2, thief] = [generateKeyPair(), generateKeyPair(), generateKeyPair()]
    const icp = createInception(k1, n.clock.ms, k2)
    expect(n.ingest.ingest(icp, { kind: 'gossip', peer: 'someone' }, { fresh: false }).ok).toBe(true)
    const chk = createCheckpoint(icp.did, 5, new Uint8Array(32), n.clock.ms, thief)
    const publisher = peerIdFromPublicKey(thief.publicKey)
    expect(gossip.validate('meshsig/v1/audit', encodeEnvelope(chk), 'relay', publisher)).toBe('reject')
    expect(n.store.misc.peerFaults().find((f) => f.peer === 'relay')?.forged).toBe(1)
  })
})
