/**
 * The durable outbox across downtime (docs/protocol.md §10, issue 12), on
 * real libp2p nodes over TCP with their databases in files: messages sent
 * while the recipient's node is stopped, or while the sender has no peer at
 * all (and is itself restarted), arrive exactly once when a path appears,
 * each with a receipt at the sender.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromPublicKey } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const nodes: MeshNode[] = []
const cleanups: (() => void)[] = []

afterEach(async () => {
  await stopAll(nodes.splice(0))
  for (const c of cleanups.splice(0)) c()
})

/** A node started and restarted with one identity, database file and TCP port (a restart of the same home). */
async function restartable(name: string, peers: () => readonly string[] = () => []) {
  const { dir, cleanup } = tempDir(`meshsig-delivery-${name}-`)
  cleanups.push(cleanup)
  const identity = freshIdentity()
  const port = await freePort()
  const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPublicKey(identity.keyPair.publicKey)}`
  const start = async (): Promise<MeshNode> => {
    const opts = { identity, dbPath: join(dir, 'node.db'), transports: 'tcp' as const, name }
    const node = await startNode({ ...opts, listen: [`/ip4/127.0.0.1/tcp/${port}`], peers: peers() })
    nodes.push(node)
    return node
  }
  return { start, addr }
}

async function stop(node: MeshNode): Promise<void> {
  nodes.splice(nodes.indexOf(node), 1)
  await node.stop()
}

/** The kinds of every audit entry of a node, with the envelope id they name. */
function auditEntries(node: MeshNode): { kind: string; envelopeId: string | null }[] {
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null })
}

describe('durable outbox', () => {
  it('100 messages sent to a stopped node’s agents arrive exactly once after its restart, each with a receipt', async () => {
    const a = await startNode({ transports: 'tcp' })
    nodes.push(a)
    const host = await restartable('host', () => [a.info().multiaddrs[0]!])
    let b = await host.start()
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await b.registerAgent('bob')).identity.did
    await waitFor(() => a.store.agents.get(bob), { timeout: 20_000 })
    await stop(b)
    const ids: string[] = []
    for (let i = 0; i < 100; i++) {
      const sent = await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: bob, message: `missed ${i}` })
      ids.push(sent.id)
    }
    expect(a.undelivered()).toBe(100)
    b = await host.start()
    await waitFor(() => a.undelivered() === 0, { timeout: 60_000, interval: 100, message: 'every receipt' })
    for (const id of ids) {
      expect(a.delivery(id)).toMatchObject({ state: 'delivered', receipt: { msg: id, to: bob, node: b.did } })
      expect(b.history().message(id)?.message.to).toBe(bob)
    }
    expect(b.listMessages({ did: bob, limit: 1000 })).toHaveLength(100)
    const entries = auditEntries(b).filter((e) => e.envelopeId !== null && ids.includes(e.envelopeId))
    expect(entries.filter((e) => e.kind === 'envelope.accepted')).toHaveLength(100)
    expect(entries.filter((e) => e.kind === 'receipt.issued')).toHaveLength(100)
    expect(auditEntries(a).filter((e) => e.kind === 'receipt.accepted')).toHaveLength(100)
  })

  it('a message sent while the sender has no peers is delivered when a path appears, across a sender restart', async () => {
    const sender = await restartable('sender')
    const host = await restartable('host', () => [sender.addr])
    let a = await sender.start()
    let b = await host.start()
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await b.registerAgent('bob')).identity.did
    await waitFor(() => a.store.agents.get(bob), { timeout: 20_000 })
    await stop(b)
    await waitFor(() => a.peers().length === 0, { timeout: 20_000 })
    const sent = await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: bob, message: 'while alone' })
    expect(a.delivery(sent.id)?.state).toBe('pending')
    await stop(a)
    a = await sender.start()
    expect(a.delivery(sent.id)?.state).toBe('pending')
    expect(a.undelivered()).toBe(1)
    b = await host.start()
    const done = await waitFor(() => (a.delivery(sent.id)?.state === 'delivered' ? a.delivery(sent.id) : undefined), {
      timeout: 60_000,
      interval: 100,
    })
    expect(done.receipt).toMatchObject({ msg: sent.id, to: bob, node: b.did })
    expect(b.history().message(sent.id)?.message.message).toBe('while alone')
    expect(a.undelivered()).toBe(0)
  })
})
