/**
 * The pull of direct delivery (docs/protocol.md §10, issue 12), on real
 * libp2p nodes over TCP in a line A – B – C: the sender's node A is not
 * connected to C when C comes back, and its retry backoff is 10 minutes, so
 * only C's presence announcement, gossiped through B, can bring A's waiting
 * messages to C within the test. A rogue peer's announcements (forged, or
 * its own) wake nothing and deliver nothing to it.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  encodePresence,
  generateKeyPair,
  keyPairFromSeed,
  peerIdFromPublicKey,
  signPresence,
  utf8,
  type KeyPair,
  type Presence,
} from '../../node/core/index.js'
import type { LimitsInit } from '../../node/limits.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, PRESENCE_TOPIC, type MeshP2P, type ValidationResult } from '../../node/p2p/index.js'
import { OPERATOR } from '../../node/services/authority.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'

const nodes: MeshNode[] = []
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  await stopAll(nodes.splice(0))
  for (const c of cleanups.splice(0)) await c()
})

/** A retry backoff far beyond the test: only a wake can bring a message on its way. */
const SLOW = { delivery: { minBackoffMs: 600_000, maxBackoffMs: 600_000 } }

/**
 * The line A – B – C, B started at once, A and C when the test says; C never
 * dials A, and restarts with its identity, database and port. A makes no DHT
 * walks of its own (they would connect it to C): it reaches C only by dialling it.
 */
async function line(limits: LimitsInit = SLOW) {
  const b = await startNode({ transports: 'tcp', name: 'b' })
  nodes.push(b)
  const bAddr = b.info().multiaddrs[0]!
  let aId = ''
  const startA = async (): Promise<MeshNode> => {
    const init = { limits, dhtQuerySelfInterval: 3_600_000 }
    const a = await startNode({ transports: 'tcp', name: 'a', peers: [bAddr], init })
    nodes.push(a)
    aId = a.mesh.peerId
    return a
  }
  const { dir, cleanup } = tempDir('meshsig-pull-')
  cleanups.push(cleanup)
  const identity = freshIdentity()
  const port = await freePort()
  const startC = async (peers: readonly string[] = [bAddr]): Promise<MeshNode> => {
    const c = await startNode({
      ...{ identity, dbPath: join(dir, 'c.db'), transports: 'tcp', name: 'c', peers },
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      init: { denyDialPeer: (id) => id === aId },
    })
    nodes.push(c)
    return c
  }
  return { b, startA, startC, cPeerId: peerIdFromPublicKey(identity.keyPair.publicKey) }
}

/** Wait until each node has a gossip mesh neighbour on the registry topic (a registration then travels at once). */
async function meshed(...line: MeshNode[]): Promise<void> {
  await waitFor(() => line.every((n) => n.mesh.meshPeers('meshsig/v1/registry').length > 0), {
    timeout: 20_000,
    message: 'gossip meshes formed',
  })
}

async function stop(node: MeshNode): Promise<void> {
  nodes.splice(nodes.indexOf(node), 1)
  await node.stop()
}

/** A's messages to `to`, sent while C is down, each tried once (unreachable) and now 10 minutes away. */
async function sendWhileDown(a: MeshNode, from: string, to: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    ids.push((await a.sendMessage({ authority: OPERATOR, fromDid: from, toDid: to, message: `missed ${i}` })).id)
  }
  await waitFor(() => ids.every((id) => (a.store.outbox.get(id)?.attempts ?? 0) >= 1), {
    timeout: 30_000,
    message: 'every message tried once',
  })
  const later = Date.now() + 300_000
  for (const id of ids) expect(a.store.outbox.get(id)).toMatchObject({ state: 'pending' })
  expect(ids.every((id) => a.store.outbox.get(id)!.nextAt > later)).toBe(true)
  return ids
}

/** A and C meshed, alice on A and carol on C; C stops and A sends `n` messages to carol while it is down. */
async function carolMisses(
  a: MeshNode,
  c: MeshNode,
  n: number,
): Promise<{ alice: string; carol: string; ids: string[] }> {
  await meshed(a, c)
  const alice = (await a.registerAgent('alice')).identity.did
  const carol = (await c.registerAgent('carol')).identity.did
  await waitFor(() => a.store.agents.get(carol), { timeout: 20_000, message: 'A learns carol' })
  const cPeer = c.mesh.peerId
  await stop(c)
  await waitFor(() => !a.peers().some((p) => p.peerId === cPeer), { timeout: 20_000 })
  return { alice, carol, ids: await sendWhileDown(a, alice, carol, n) }
}

/** The kinds of every audit entry of a node, with the envelope id they name. */
function auditEntries(node: MeshNode): { kind: string; envelopeId: string | null }[] {
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null })
}

describe('the pull: a returning node gets what it missed from senders it is not connected to', () => {
  it(
    '100 messages from A reach C exactly once soon after C restarts, each with a receipt at A',
    { timeout: 120_000 },
    async () => {
      const { startA, startC } = await line()
      const a = await startA()
      let c = await startC()
      const { carol, ids } = await carolMisses(a, c, 100)
      c = await startC()
      await waitFor(() => a.undelivered() === 0, { timeout: 60_000, interval: 100, message: 'every receipt at A' })
      for (const id of ids) {
        expect(a.delivery(id)).toMatchObject({ state: 'delivered', receipt: { msg: id, to: carol, node: c.did } })
      }
      expect(c.listMessages({ did: carol, limit: 1000 })).toHaveLength(100)
      const atC = auditEntries(c).filter((e) => e.envelopeId !== null && ids.includes(e.envelopeId))
      expect(atC.filter((e) => e.kind === 'envelope.accepted')).toHaveLength(100)
      expect(atC.filter((e) => e.kind === 'receipt.issued')).toHaveLength(100)
      expect(auditEntries(a).filter((e) => e.kind === 'receipt.accepted')).toHaveLength(100)
    },
  )

  it(
    'a returning node whose first peer relays nothing is heard through the peer that connects next',
    { timeout: 120_000 },
    async () => {
      const { b, startA, startC } = await line()
      const a = await startA()
      let c = await startC()
      const { carol, ids } = await carolMisses(a, c, 5)
      // C comes back knowing only a peer that takes its presence and passes on nothing (as a node older than the topic)
      const mute = await peerNear(undefined, () => 'ignore')
      c = await startC([mute.multiaddrs()[0]!])
      await waitFor(() => c.peers().some((p) => p.peerId === mute.peerId), { message: 'C reaches the mute peer' })
      await b.connectPeer(c.info().multiaddrs[0]!)
      await waitFor(() => a.undelivered() === 0, { timeout: 30_000, interval: 100, message: 'delivered through B' })
      for (const id of ids) expect(a.delivery(id)?.receipt).toMatchObject({ msg: id, to: carol, node: c.did })
    },
  )

  it(
    'a rogue peer announcing another node’s presence, or its own, is delivered nothing and changes nothing',
    { timeout: 120_000 },
    async () => {
      // A takes every announcement (no interval), so each of the rogue's is judged, none merely counted
      const { startA, startC, cPeerId } = await line({ ...SLOW, delivery: { ...SLOW.delivery, presenceIntervalMs: 0 } })
      const a = await startA()
      let c = await startC()
      const { ids } = await carolMisses(a, c, 3)
      const before = ids.map((id) => a.store.outbox.get(id))
      const { rogue, key } = await rogueNear(a)
      const delivered: string[] = []
      await rogue.serveDeliveries((req) => {
        delivered.push(Buffer.from(req).toString('utf8'))
        return utf8('null')
      })
      // its own presence, valid: it hosts none of the agents A holds messages for
      await publishUntilSeen(rogue, encodePresence(signPresence(key, Date.now())))
      // C's presence it cannot sign: C's PeerId over another key's signature, then over its own
      const forged: Presence = { ...signPresence(generateKeyPair(), Date.now()), peerId: cPeerId }
      await rogue.publish(PRESENCE_TOPIC, encodePresence(forged))
      await waitFor(() => a.mesh.peerScore(rogue.peerId) < 0, { timeout: 15_000, message: 'forgery rejected' })
      const score = a.mesh.peerScore(rogue.peerId)
      await rogue.publish(PRESENCE_TOPIC, encodePresence({ ...signPresence(key, Date.now()), peerId: cPeerId }))
      await waitFor(() => a.mesh.peerScore(rogue.peerId) < score, { timeout: 15_000, message: 'second forgery' })
      expect(ids.map((id) => a.store.outbox.get(id))).toEqual(before)
      expect(delivered).toEqual([])
      // C's own presence does what the rogue's could not
      c = await startC()
      await waitFor(() => a.undelivered() === 0, { timeout: 30_000, interval: 100, message: 'delivered to C' })
      expect(ids.map((id) => a.delivery(id)?.receipt?.node)).toEqual([c.did, c.did, c.did])
      expect(delivered).toEqual([])
    },
  )
})

/** A real libp2p peer connected to `node`, answering sync as an empty registry (test/integration/flood-rogue.ts). */
async function rogueNear(node: MeshNode): Promise<{ rogue: MeshP2P; key: KeyPair }> {
  const seed = new Uint8Array(randomBytes(32))
  return { rogue: await peerNear(node, () => 'accept', seed), key: keyPairFromSeed(seed) }
}

/** A real libp2p peer (bootstrapped to `node`, if any) whose gossip verdict is `verdict`: 'ignore' relays nothing. */
async function peerNear(
  node: MeshNode | undefined,
  verdict: () => ValidationResult,
  seed = new Uint8Array(randomBytes(32)),
): Promise<MeshP2P> {
  const peer = await createMeshP2P({
    seed,
    transports: 'tcp+ws',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    heartbeatInterval: 200,
    bootstrap: node === undefined ? [] : [node.info().multiaddrs[0]!],
    validate: verdict,
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
  })
  cleanups.push(() => peer.stop())
  await peer.start()
  return peer
}

/** Publish once some peer is subscribed to the presence topic. */
async function publishUntilSeen(rogue: MeshP2P, data: Uint8Array): Promise<void> {
  await waitFor(async () => (await rogue.publish(PRESENCE_TOPIC, data)).recipients > 0, {
    timeout: 15_000,
    interval: 200,
    message: 'the rogue reaches a subscriber',
  })
}
