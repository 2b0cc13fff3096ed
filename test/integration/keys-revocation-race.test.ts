/**
 * A DID rotates its key while its controller revokes it (docs/protocol.md §6):
 * real libp2p nodes in a line A - B - C, the revocation taken first on A (the
 * controller), the rotation (with the registration its new key signs, as every
 * rotation path of the node makes) first on C. Every node must end revoked,
 * nobody charged as a forger, nothing recorded as the DID's duplicity; a node
 * that joins later through sync learns the revocation too, from either side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRegistration,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  type RegEnvelope,
  type RevEnvelope,
  type RotEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity, startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { auditEntries, message, ownAgent, waitForMeshes, type OwnAgent } from './keys-fixture.js'

describe('a rotation that races the controller’s revocation', () => {
  const controllerIdentity = freshIdentity()
  let nodes: MeshNode[] = []
  let racer: OwnAgent
  let rot: RotEnvelope
  let reg: RegEnvelope
  let rev: RevEnvelope
  const revokedBy = (n: MeshNode): string | undefined => n.store.keyEvents.state(racer.did)?.revoked?.by

  beforeAll(async () => {
    const a = await startNode({ identity: controllerIdentity })
    const b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    const c = await startNode({ peers: [b.info().multiaddrs[0]!] })
    nodes = [a, b, c]
    await waitForMeshes(nodes)
    racer = await ownAgent(a, 'racer')
    await waitFor(() => nodes.every((n) => n.agents.record(racer.did) !== undefined), { timeout: 15_000 })
    const state = a.store.keyEvents.state(racer.did)!
    rot = createRotation(state, racer.key, racer.next, Date.now(), generateKeyPair())
    const { did, peerId } = a.info()
    reg = createRegistration(
      { did: racer.did, name: 'racer', capabilities: [], controller: did, peerId, ts: Date.now() + 1 },
      racer.next,
    )
    rev = createRevocation(state, controllerIdentity.keyPair, 'compromised', Date.now())
  })
  afterAll(() => stopAll(nodes))

  it('both are taken where they land first, and every node ends revoked by the controller', async () => {
    const [a, , c] = nodes as [MeshNode, MeshNode, MeshNode]
    // both ingested before either crosses the mesh: A takes the revocation first, C the rotation
    const [onA, onC, regOnC] = await Promise.all([a.submitEnvelope(rev), c.submitEnvelope(rot), c.submitEnvelope(reg)])
    expect([onA.ok, onC.ok, regOnC.ok]).toEqual([true, true, true])
    await waitFor(() => nodes.every((n) => revokedBy(n) === 'controller'), { timeout: 15_000 })
    // C holds the rotation and the revocation beside it; A never took the rotation
    const logOf = (n: MeshNode) => n.store.keyEvents.log(racer.did).map((e) => envelopeId(e))
    expect(logOf(c).slice(1)).toEqual([envelopeId(rot), envelopeId(rev)])
    expect(logOf(a).slice(1)).toEqual([envelopeId(rev)])
  })

  it('nobody is charged and nothing is recorded as the DID’s duplicity', async () => {
    await waitFor(
      () => nodes.every((n) => auditEntries(n).some((e) => e.kind === 'agent.revoked' && e.subject === racer.did)),
      { timeout: 10_000 },
    )
    for (const [i, n] of nodes.entries()) {
      expect(n.duplicities(racer.did), `node ${i}`).toEqual([])
      expect(
        n.store.misc.peerFaults().filter((f) => f.forged > 0),
        `node ${i}`,
      ).toEqual([])
      const refusals = auditEntries(n).filter(
        (e) => e.kind === 'envelope.rejected' && [envelopeId(rot), envelopeId(rev)].includes(e.envelopeId ?? ''),
      )
      // at most the rotation, refused as what it is on a node that had the revocation first
      expect(
        refusals.map((e) => [e.envelopeId, e.code]),
        `node ${i}`,
      ).toEqual(refusals.length === 0 ? [] : [[envelopeId(rot), 'REVOKED']])
    }
  })

  it('neither the old key nor the rotated-in one is accepted anywhere', async () => {
    for (const [i, n] of nodes.entries()) {
      for (const key of [racer.key, racer.next]) {
        const v = await n.submitEnvelope(message(key, racer.did, null, 'still here?'))
        expect(!v.ok && v.error.code, `node ${i}`).toBe('REVOKED')
      }
    }
  })

  it('a node that joins later learns the revocation through sync, from the node that took the rotation first or the controller', async () => {
    for (const from of [nodes[2]!, nodes[0]!]) {
      const late = await startNode({ peers: [from.info().multiaddrs[0]!] })
      nodes.push(late)
      await waitFor(() => revokedBy(late) === 'controller', { timeout: 20_000 })
      expect(late.agents.record(racer.did)?.status).toBe('revoked')
      expect(late.duplicities(racer.did)).toEqual([])
      const refused = auditEntries(late).filter((e) => e.kind === 'envelope.rejected' && e.subject === racer.did)
      expect(refused.map((e) => e.code)).toEqual([])
    }
  })
})
