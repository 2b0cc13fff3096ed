/**
 * A DID rotates its key while its controller revokes it (docs/protocol.md §6):
 * real libp2p nodes in a line A - B - C, the revocation taken first on A (the
 * controller), the rotation first on C. Every node must end revoked, nobody
 * charged as a forger, nothing recorded as the DID's duplicity; a node that
 * joins later through sync learns the revocation too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  type RevEnvelope,
  type RotEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { RegistryIndex } from '../../node/services/sync-index.js'
import { freshIdentity, startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { auditEntries, message, ownAgent, waitForMeshes, type OwnAgent } from './keys-fixture.js'

/** The types of the items of `did` a node serves to sync (docs/protocol.md §9), in application order. */
function served(n: MeshNode, did: string): string[] {
  const parts = (n as unknown as { parts: { registrySync: { index: RegistryIndex } } }).parts
  const items = parts.registrySync.index.page(undefined, 100_000).filter((i) => i.did === did)
  return items.map((i) => `${i.type}:${i.id}`)
}

describe('a rotation that races the controller’s revocation', () => {
  const controllerIdentity = freshIdentity()
  let nodes: MeshNode[] = []
  let racer: OwnAgent
  let rot: RotEnvelope
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
    rev = createRevocation(state, controllerIdentity.keyPair, 'compromised', Date.now())
  })
  afterAll(() => stopAll(nodes))

  it('both are taken where they land first, and every node ends revoked by the controller', async () => {
    const [a, , c] = nodes as [MeshNode, MeshNode, MeshNode]
    // both ingested before either crosses the mesh: A takes the revocation first, C the rotation
    const [onA, onC] = await Promise.all([a.submitEnvelope(rev), c.submitEnvelope(rot)])
    expect([onA.ok, onC.ok]).toEqual([true, true])
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

  it('every node serves the log the revocation was signed on: equal registries, whichever came first', () => {
    const onA = served(nodes[0]!, racer.did)
    expect(onA.map((i) => i.split(':')[0])).toEqual(['icp', 'reg', 'rev'])
    for (const n of nodes) expect(served(n, racer.did)).toEqual(onA)
  })

  it('a node that joins later, from the node that took the rotation first, learns the revocation through sync', async () => {
    const late = await startNode({ peers: [nodes[2]!.info().multiaddrs[0]!] })
    nodes.push(late)
    await waitFor(() => revokedBy(late) === 'controller', { timeout: 20_000 })
    // the registration signed under the inception key is checked on that log, then the revocation on it
    expect(late.store.keyEvents.log(racer.did).map((e) => e.type)).toEqual(['icp', 'rev'])
    expect(late.agents.record(racer.did)?.status).toBe('revoked')
    expect(late.duplicities(racer.did)).toEqual([])
    expect(auditEntries(late).filter((e) => e.kind === 'envelope.rejected')).toEqual([])
    expect(served(late, racer.did)).toEqual(served(nodes[0]!, racer.did))
  })
})
