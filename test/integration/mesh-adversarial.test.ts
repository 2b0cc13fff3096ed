import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  createRegistration,
  didFromPublicKey,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
} from '../../node/core/index.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll, tempDir, freshIdentity } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'
import { OPERATOR } from '../../node/services/authority.js'

/** The audit entries of `node` about envelope `id`: their kinds and who delivered the envelope. */
function auditOf(node: MeshNode, id: string): { kind: string; deliveredBy: unknown }[] {
  return node.store.auditEntries
    .entries(0, 100_000)
    .map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null; data: { deliveredBy?: unknown } })
    .filter((e) => e.envelopeId === id)
    .map((e) => ({ kind: e.kind, deliveredBy: e.data.deliveredBy }))
}

function rejectionCode(node: MeshNode, id: string): string | undefined {
  for (const r of node.store.auditEntries.entries(0, 100_000)) {
    const e = JSON.parse(r.entry) as { kind: string; envelopeId: string | null; code: string | null }
    if (e.kind === 'envelope.rejected' && e.envelopeId === id) return e.code ?? undefined
  }
  return undefined
}

describe('a rogue node publishing forgeries (valid gossipsub signature, bad meshsig signature)', () => {
  let a: MeshNode
  let b: MeshNode
  let rogue: MeshP2P

  beforeAll(async () => {
    a = await startNode()
    b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    rogue = await createMeshP2P({
      seed: generateKeyPair().seed,
      transports: 'memory',
      listen: [`/memory/rogue-${process.pid}-${Date.now()}`],
      validate: () => 'accept',
      onMessage: () => undefined,
      syncProvider: emptyRegistry,
      heartbeatInterval: 200,
    })
    await rogue.start()
    await rogue.dial(a.info().multiaddrs[0]!)
    await waitFor(() => rogue.subscribers('meshsig/v1/messages').includes(a.mesh.peerId), { timeout: 15_000 })
    await waitFor(() => rogue.subscribers('meshsig/v1/registry').includes(a.mesh.peerId), { timeout: 15_000 })
    await waitFor(() => a.mesh.meshPeers('meshsig/v1/messages').includes(b.mesh.peerId), { timeout: 15_000 })
  })

  afterAll(async () => {
    await rogue?.stop()
    await stopAll([a, b])
  })

  it('is rejected by its neighbour, stored nowhere and forwarded nowhere', async () => {
    const victim = await a.registerAgent('victim', [{ type: 'payments' }])
    await waitFor(() => b.agents.record(victim.identity.did) !== undefined, { timeout: 15_000 })
    const mallory = generateKeyPair()
    const forgedMsg = createMessage(
      { from: victim.identity.did, to: null, body: 'pay mallory', ts: Date.now(), nonce: new Uint8Array(16).fill(9) },
      mallory,
    )
    const takeover = createRegistration(
      {
        did: victim.identity.did,
        name: 'victim-taken-over',
        capabilities: [{ type: 'payments' }],
        controller: didFromPublicKey(mallory.publicKey),
        peerId: rogue.peerId,
        ts: Date.now() + 1000,
      },
      mallory,
    )
    await rogue.publish('meshsig/v1/messages', encodeEnvelope(forgedMsg))
    await rogue.publish('meshsig/v1/registry', encodeEnvelope(takeover))
    const msgId = envelopeId(forgedMsg)
    const regId = envelopeId(takeover)
    await waitFor(() => rejectionCode(a, msgId) && rejectionCode(a, regId), { timeout: 15_000 })
    expect(rejectionCode(a, msgId)).toBe('SIGNATURE_INVALID')
    expect(rejectionCode(a, regId)).toBe('SIGNATURE_INVALID')

    // a valid message published after the forgeries reaches b; the forgeries never do
    const sent = await a.sendMessage({
      authority: OPERATOR,
      fromDid: victim.identity.did,
      toDid: null,
      message: 'legit',
    })
    await waitFor(() => b.store.messages.exists(sent.id), { timeout: 15_000 })
    for (const node of [a, b]) {
      expect(node.store.messages.exists(msgId)).toBe(false)
      expect(node.agents.record(victim.identity.did)!.name).toBe('victim')
    }
    // a never forwarded them: b heard of them, if at all, only straight from the rogue (the DHT may connect the two),
    // and refused them there
    for (const id of [msgId, regId]) {
      for (const e of auditOf(b, id)) expect(e).toEqual({ kind: 'envelope.rejected', deliveredBy: rogue.peerId })
    }
    // the victim's trust is untouched; the delivering peer is the one charged
    expect(a.agents.record(victim.identity.did)!.trustScore).toBeGreaterThanOrEqual(0.5)
    expect(a.store.misc.peerFaults().find((f) => f.peer === rogue.peerId)?.forged).toBe(2)
    await waitFor(() => a.mesh.peerScore(rogue.peerId) < 0, { timeout: 15_000 })
  })
})

describe('a node stopped, then restarted after new events', () => {
  it('catches up fully through sync, keeping what it had', async () => {
    const { dir, cleanup } = tempDir()
    const identity = freshIdentity()
    const dbPath = `${dir}/node.db`
    const n1 = await startNode({ transports: 'tcp' })
    let n2 = await startNode({ transports: 'tcp', identity, dbPath, peers: [n1.info().multiaddrs[0]!] })
    try {
      const before = await n1.registerAgent('before', [])
      await waitFor(() => n2.agents.record(before.identity.did) !== undefined, { timeout: 15_000 })
      await n2.stop()
      const after = await n1.registerAgent('after', [{ type: 'translation' }])
      n2 = await startNode({ transports: 'tcp', identity, dbPath, peers: [n1.info().multiaddrs[0]!] })
      await waitFor(() => n2.agents.record(after.identity.did) !== undefined, { timeout: 15_000 })
      expect(n2.agents.record(before.identity.did)?.name).toBe('before')
      expect(n2.store.keyEvents.log(after.identity.did)).toEqual(n1.store.keyEvents.log(after.identity.did))
    } finally {
      await stopAll([n1, n2])
      cleanup()
    }
  })
})
