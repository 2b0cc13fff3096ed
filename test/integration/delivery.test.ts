/**
 * Direct delivery with signed receipts (docs/protocol.md §10, issue 12), on
 * real libp2p nodes over TCP: a message travels only to the node hosting its
 * recipient, is answered with a receipt signed by that node's key, and waits
 * in the sender's durable outbox while that node (or every peer) is away.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  envelopeId,
  generateKeyPair,
  signReceipt,
  utf8,
  type MsgEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { freshIdentity, startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const nodes: MeshNode[] = []

afterEach(async () => {
  await stopAll(nodes.splice(0))
})

/** Wait until `node` knows the registration of `did`. */
async function knows(node: MeshNode, did: string): Promise<void> {
  await waitFor(() => node.store.agents.get(did), { timeout: 20_000, message: `${node.name} learns ${did}` })
}

/** The kinds of every audit entry of a node, in log order. */
function auditKinds(node: MeshNode): string[] {
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.map((r) => (JSON.parse(r.entry) as { kind: string }).kind)
}

function send(node: MeshNode, fromDid: string, toDid: string | null, message: string) {
  return node.sendMessage({ authority: OPERATOR, fromDid, toDid, message })
}

describe('direct delivery with receipts', () => {
  it('reaches the recipient node with a receipt; a node not on the path stores nothing', async () => {
    const a = await startNode({ transports: 'tcp' })
    nodes.push(a)
    const b = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    nodes.push(b)
    const c = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    nodes.push(c)
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await b.registerAgent('bob')).identity.did
    await knows(a, bob)
    await knows(c, alice)
    const sent = await send(a, alice, bob, 'for bob only')
    const delivered = await waitFor(() =>
      a.delivery(sent.id)?.state === 'delivered' ? a.delivery(sent.id) : undefined,
    )
    expect(delivered.receipt).toMatchObject({ type: 'rcp', msg: sent.id, to: bob, node: b.did })
    expect(b.history().message(sent.id)?.message.message).toBe('for bob only')
    expect(b.delivery(sent.id)).toMatchObject({ role: 'host', state: 'delivered' })
    const broadcast = await send(a, alice, null, 'for everyone')
    await waitFor(() => c.history().message(broadcast.id))
    expect(c.history().message(sent.id)).toBeUndefined()
    expect(a.undelivered()).toBe(0)
  })

  it('refuses a forged receipt (wrong key, wrong node) or a garbled answer and keeps the message pending', async () => {
    const a = await startNode({ transports: 'tcp' })
    nodes.push(a)
    const rogue = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    nodes.push(rogue)
    const other = freshIdentity()
    const alice = (await a.registerAgent('alice')).identity.did
    const mallory = (await rogue.registerAgent('mallory')).identity.did
    await knows(a, mallory)
    // the rogue's node answers deliveries with receipts it did not sign with its own key, or naming another node
    let forge: 'key' | 'node' | 'junk' = 'key'
    await rogue.mesh.serveDeliveries((req) => {
      if (forge === 'junk') return utf8('null')
      const msg = decodeEnvelope(req) as MsgEnvelope
      const node = forge === 'key' ? rogue.did : other.did
      const key = forge === 'key' ? generateKeyPair() : other.keyPair
      const receipt = signReceipt({ msg: envelopeId(msg), to: msg.to!, node, ts: Date.now() }, key)
      return utf8(JSON.stringify({ receipt }))
    })
    const first = await send(a, alice, mallory, 'receipt by a wrong key')
    await waitFor(() => a.delivery(first.id)?.code === 'SIGNATURE_INVALID')
    expect(a.delivery(first.id)?.state).toBe('pending')
    forge = 'node'
    const second = await send(a, alice, mallory, 'receipt naming another node')
    await waitFor(() => a.delivery(second.id)?.code === 'KEY_MISMATCH', { timeout: 15_000 })
    expect(a.delivery(second.id)?.state).toBe('pending')
    expect(auditKinds(a).filter((k) => k === 'receipt.rejected').length).toBeGreaterThanOrEqual(2)
    expect(auditKinds(a)).not.toContain('receipt.accepted')
    // an answer that is no answer at all: the message is rescheduled like any failure
    forge = 'junk'
    const third = await send(a, alice, mallory, 'answered with null')
    await waitFor(() => a.delivery(third.id)?.code === 'PEER_ERROR', { timeout: 15_000 })
    expect(a.delivery(third.id)?.state).toBe('pending')
    expect(a.undelivered()).toBe(3)
  })

  it('a final refusal is not retried, and a message no host receipts expires', async () => {
    const a = await startNode({ transports: 'tcp', init: { limits: { delivery: { expiryMs: 2_000 } } } })
    nodes.push(a)
    const peers = [a.info().multiaddrs[0]!]
    // a host whose window refuses every delivered message as CLOCK_SKEW (a final code)
    const strict = await startNode({
      transports: 'tcp',
      peers,
      init: { maxSkewMs: 0, limits: { delivery: { expiryMs: 0 } } },
    })
    nodes.push(strict)
    const gone = await startNode({ transports: 'tcp', peers })
    nodes.push(gone)
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await strict.registerAgent('bob')).identity.did
    const carol = (await gone.registerAgent('carol')).identity.did
    await knows(a, bob)
    await knows(a, carol)
    await gone.stop()
    const refused = await send(a, alice, bob, 'too late for this host')
    await waitFor(() => a.delivery(refused.id)?.state === 'refused', { timeout: 15_000 })
    expect(a.delivery(refused.id)).toMatchObject({ code: 'CLOCK_SKEW', attempts: 0, receipt: null })
    expect(strict.history().message(refused.id)).toBeUndefined()
    const lost = await send(a, alice, carol, 'nobody home')
    await waitFor(() => a.delivery(lost.id)?.state === 'expired', { timeout: 15_000 })
    expect(auditKinds(a)).toEqual(expect.arrayContaining(['delivery.refused', 'delivery.expired']))
    expect(a.delivery(refused.id)?.state).toBe('refused')
    expect(a.undelivered()).toBe(0)
  })

  it('a host answers RATE_LIMITED past a peer’s budget of the window; the sender keeps the message pending', async () => {
    const a = await startNode({ transports: 'tcp' })
    nodes.push(a)
    const limits = { relay: { perPeerMessages: 2, windowMs: 3_600_000 } }
    const host = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!], init: { limits } })
    nodes.push(host)
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await host.registerAgent('bob')).identity.did
    await knows(a, bob)
    const sent = []
    for (const body of ['one', 'two', 'three']) {
      const m = await send(a, alice, bob, body)
      await waitFor(() => a.delivery(m.id)?.state === 'delivered' || a.delivery(m.id)?.code === 'RATE_LIMITED')
      sent.push(m)
    }
    expect(sent.map((m) => a.delivery(m.id)?.state)).toEqual(['delivered', 'delivered', 'pending'])
    expect(a.delivery(sent[2]!.id)?.code).toBe('RATE_LIMITED')
    expect(host.history().message(sent[2]!.id)).toBeUndefined()
  })
  it('a message to a recipient not known yet is delivered when its registration arrives, not at its backoff', async () => {
    // a backoff far beyond the test: only the registration's arrival can bring the message on its way
    const limits = { delivery: { minBackoffMs: 600_000, maxBackoffMs: 600_000 } }
    const a = await startNode({ transports: 'tcp', init: { limits } })
    nodes.push(a)
    const c = await startNode({ transports: 'tcp' })
    nodes.push(c)
    const alice = (await a.registerAgent('alice')).identity.did
    const xavier = (await c.registerAgent('xavier')).identity.did
    const sent = await send(a, alice, xavier, 'before I knew your node')
    await waitFor(() => (a.delivery(sent.id)?.attempts ?? 0) >= 1, { message: 'first attempt failed' })
    expect(a.delivery(sent.id)).toMatchObject({ state: 'pending', code: 'NOT_FOUND' })
    await a.connectPeer(c.info().multiaddrs[0]!)
    await knows(a, xavier)
    const delivered = await waitFor(
      () => (a.delivery(sent.id)?.state === 'delivered' ? a.delivery(sent.id) : undefined),
      { timeout: 20_000, message: 'delivered once the registration arrived' },
    )
    expect(delivered.receipt).toMatchObject({ type: 'rcp', msg: sent.id, to: xavier, node: c.did })
    expect(c.history().message(sent.id)?.message.message).toBe('before I knew your node')
  })
})
