/**
 * Review 104, M1 (docs/protocol.md §6, decision 0075): a thief holding a custodied agent's current key (not its
 * next key, nor the controller's) signs a revocation with it after the owner rotated, at the seq the rotation
 * took, and hands it through a peer of its own to a node that was offline during the rotation, before that
 * node syncs with the mesh. Real in-process libp2p nodes: a (the owner's host), b (online throughout), r
 * (offline during the rotation, file database), j (joins later with r as its only peer), and the thief's peer.
 *
 * Before decision 0075, r took the revocation, refused the owner's rotation as the DID's DUPLICITY when it
 * synced with b, and j took r's state: the mesh stayed split for good. Now the rotation, signed by the key
 * committed before it, replaces the revocation on r, and every node ends in the owner's state.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createRevocation, encodeEnvelope, envelopeId, keyPairFromB64, type KeyState } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { OPERATOR } from '../../node/services/authority.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from '../integration/flood-rogue.js'

const dir = tempDir()
let nodes: (MeshNode | undefined)[] = []
let thief: MeshP2P | undefined
afterAll(async () => {
  await thief?.stop()
  await stopAll(nodes)
  dir.cleanup()
})

function stateOf(n: MeshNode, did: string): { seq?: number; key?: string; revoked: boolean } {
  const s = n.store.keyEvents.state(did)
  return { seq: s?.seq, key: s?.key, revoked: s?.revoked !== undefined && s?.revoked !== null }
}

describe('a thief revokes with a retired key on a node that missed the rotation', () => {
  it('every node ends in the owner’s state: rotated, not revoked', async () => {
    const a = await startNode({ name: 'a' })
    const b = await startNode({ name: 'b', peers: [a.info().multiaddrs[0]!] })
    const idR = freshIdentity()
    const dbPath = `${dir.dir}/r.db`
    let r = await startNode({ name: 'r', identity: idR, dbPath, peers: [b.info().multiaddrs[0]!] })
    nodes = [a, b, r]
    const reg = await a.registerAgent('victim')
    const did = reg.identity.did
    const stolen = keyPairFromB64(reg.identity.privateKey!) // the thief's copy of the current key
    await waitFor(() => r.store.agents.get(did) !== undefined, { timeout: 20_000, message: 'r learns the agent' })
    const before = a.store.keyEvents.state(did) as KeyState
    await r.stop()

    // the owner rotates at once (custodied: the node signs the rotation with the committed next key)
    await a.rotateAgent({ did, authority: OPERATOR })
    await waitFor(() => b.store.keyEvents.state(did)?.seq === 1, { timeout: 15_000, message: 'b takes the rotation' })

    // later, the thief signs a revocation with the retired key and gossips it: a and b keep the owner's state
    const rev = createRevocation(before, stolen, 'stolen', Date.now())
    thief = await rogueP2P('review104-thief')
    await thief.start()
    await thief.dial(b.info().multiaddrs[0]!)
    await waitFor(() => thief!.subscribers('meshsig/v1/registry').includes(b.mesh.peerId), { timeout: 15_000 })
    await thief.publish('meshsig/v1/registry', encodeEnvelope(rev))
    await new Promise((res) => setTimeout(res, 1_000))
    expect(stateOf(b, did).revoked).toBe(false)

    // r comes back; the thief's peer reaches it first, then r finds the honest mesh
    r = await startNode({ name: 'r', identity: idR, dbPath, peers: [] })
    nodes = [a, b, r]
    await thief.dial(r.info().multiaddrs[0]!)
    await waitFor(() => thief!.subscribers('meshsig/v1/registry').includes(r.mesh.peerId), { timeout: 15_000 })
    await thief.publish('meshsig/v1/registry', encodeEnvelope(rev))
    await waitFor(() => stateOf(r, did).revoked, { timeout: 5_000 }).catch(() => undefined)
    await r.connectPeer(b.info().multiaddrs[0]!)
    // wait until r has judged the owner's rotation (taken, or refused and audited)
    const rotId = a.store.keyEvents.eventIdAt(did, 1)!
    const judged = (): boolean =>
      stateOf(r, did).key === stateOf(a, did).key ||
      r.store.auditEntries
        .entries(0, r.store.auditEntries.count())
        .some((row) => (JSON.parse(row.entry) as { envelopeId: string | null }).envelopeId === rotId)
    await waitFor(judged, { timeout: 30_000, message: 'r judged the rotation' })
    const verdict = r.store.auditEntries
      .entries(0, r.store.auditEntries.count())
      .map((row) => JSON.parse(row.entry) as { kind: string; envelopeId: string | null; data: object })
      .find((e) => e.envelopeId === rotId)

    // a node that joins later through r (its only peer) takes whatever r serves
    const j = await startNode({ name: 'j', peers: [r.info().multiaddrs[0]!] })
    nodes = [a, b, r, j]
    await waitFor(() => stateOf(j, did).seq === 1, { timeout: 20_000, message: 'j learns the DID' })
    await new Promise((res) => setTimeout(res, 1_000))

    const owner = stateOf(a, did)
    expect(owner).toMatchObject({ seq: 1, revoked: false })
    const duplicities = r.store.auditEntries
      .entries(0, r.store.auditEntries.count())
      .map((row) => JSON.parse(row.entry) as { kind: string; subject: string | null })
      .filter((e) => e.kind === 'duplicity' && e.subject === did).length
    // correct: r ends as the owner left the DID, and the owner's rotation is not recorded as the DID's duplicity
    expect({ b: stateOf(b, did), r: stateOf(r, did), j: stateOf(j, did), duplicitiesOnR: duplicities }).toEqual({
      b: owner,
      r: owner,
      j: owner,
      duplicitiesOnR: 0,
    })
    // on r the rotation was taken, not refused: its audit entry names the revocation it replaced, which r
    // stores, lists and counts no more
    expect(verdict).toMatchObject({ kind: 'key.rotated', data: { replaces: envelopeId(rev) } })
    expect(r.store.keyEvents.log(did).map((e) => e.type)).toEqual(['icp', 'rot'])
    expect(r.store.keyEvents.revoked().some((row) => row.state.did === did)).toBe(false)
    expect([r.store.trust.get('revoked', did).failures, r.store.trust.get('did', did).failures]).toEqual([0, 0])
  }, 120_000)
})
