/**
 * The registry quota (docs/protocol.md §7): a real rogue libp2p peer gossips
 * valid registrations of fresh DIDs, each signed by its own new key, which
 * cost it nothing. The victim stores agents up to `limits.registry.maxAgents`
 * and no more: the rest are neither stored, audited nor relayed, the rogue
 * is not charged for them (they are valid), the operator is warned, and the
 * node's own agents still register. A node that catches up by sync stops at
 * its own bound, without charging the peer that served it, and does not
 * check again what it refused. A DID that rotates
 * again and again has at most `MAX_KEY_EVENTS` key events stored on any
 * node; its revocation is still taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MAX_KEY_EVENTS,
  applyKeyEvent,
  envelopeId,
  createInception,
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  encodeEnvelope,
  generateKeyPair,
  type Envelope,
  type KeyPair,
  type KeyState,
} from '../../node/core/index.js'
import { createLogger, type Logger } from '../../node/logger.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const MAX = 5
const FLOOD = 40
let a: MeshNode
let b: MeshNode
let rogue: MeshP2P
const warnings: string[] = []
const rogueDids: string[] = []
let firstRogue: { key: KeyPair; did: string } | undefined

/** A logger that keeps a's warnings. */
function keepWarnings(): Logger {
  return createLogger({ level: 'warn', json: true, write: (line) => void warnings.push(line) })
}

/** Audit entries of `node` whose subject is one of the rogue's DIDs. */
function auditedRogue(node: MeshNode): number {
  const dids = new Set(rogueDids)
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.filter((r) => dids.has((JSON.parse(r.entry) as { subject?: string | null }).subject ?? '')).length
}

/** DIDs whose key log `node` stores though no stored agent is or names them (its own DID aside). */
function unanchoredLogs(node: MeshNode): string[] {
  const anchored = new Set(node.store.agents.list({ limit: 1_000_000 }).flatMap((r) => [r.did, r.controller]))
  return node.store.keyEvents.allDids().filter((d) => !anchored.has(d) && d !== node.did)
}

/** Count from now on the envelopes matching `which` that go through `node`'s ingest. */
function countIngests(node: MeshNode, which: (e: { type: string; did?: string }) => boolean): () => number {
  const ingest = (node as unknown as { parts: { ingest: { ingest(e: unknown, ...a: unknown[]): unknown } } }).parts
    .ingest
  const real = ingest.ingest.bind(ingest)
  let n = 0
  ingest.ingest = (e, ...a) => {
    if (which(e as { type: string; did?: string })) n++
    return real(e, ...a)
  }
  return () => n
}

beforeAll(async () => {
  a = await startNode({ init: { limits: { registry: { maxAgents: MAX } }, logger: keepWarnings() } })
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  rogue = await rogueP2P('registry-quota')
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  await waitFor(() => a.mesh.meshPeers(REGISTRY).includes(b.mesh.peerId), { timeout: 15_000 })
  // b's own key log (sync's pull of a peer's log) takes one place of a's bound: a DID that is no agent
  await waitFor(() => a.store.keyEvents.state(b.did) !== undefined, { timeout: 15_000, message: "a has b's log" })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a, b])
})

describe('valid registrations of fresh DIDs, past the registry quota', () => {
  it('are not stored, audited or relayed, and nobody is charged; the operator is warned', async () => {
    await a.registerAgent('own-1')
    for (let i = 0; i < FLOOD; i++) {
      const key = generateKeyPair()
      const icp = createInception(key, Date.now())
      const init = { did: icp.did, name: `sybil ${i}`, capabilities: [], controller: icp.did, peerId: rogue.peerId }
      rogueDids.push(icp.did)
      firstRogue ??= { key, did: icp.did }
      const reg = createRegistration({ ...init, ts: Date.now() }, key)
      // both orders: an inception first is held until its registration releases it
      const pair = i % 2 === 0 ? [reg, icp] : [icp, reg]
      for (const e of pair) await rogue.publish(REGISTRY, encodeEnvelope(e))
    }
    // a message published after the flood, from the first (stored) rogue agent: once a has it, a saw the flood
    const { key, did } = firstRogue!
    const nonce = new Uint8Array(16).fill(7)
    const msg = createMessage({ from: did, to: null, body: 'after the flood', ts: Date.now(), nonce }, key)
    await waitFor(() => a.store.agents.get(did), { timeout: 15_000 })
    await rogue.publish('meshsig/v1/messages', encodeEnvelope(msg))
    await waitFor(() => a.store.messages.total() > 0, { timeout: 15_000, message: 'a took the last message' })
    const agents = MAX - 1 // b's key log holds the other place
    await waitFor(() => b.store.agents.count() === agents, { timeout: 15_000, message: 'b has what a relayed' })

    expect(a.store.agents.count()).toBe(agents) // own-1 and the first three of the flood
    expect(rogueDids.filter((d) => a.store.agents.get(d)).length).toBe(agents - 1)
    expect(unanchoredLogs(a)).toEqual([b.did]) // no key log of a refused DID either (b: a peer node)
    // an icp and a reg of each stored agent, and the last message: the refused ones left no entry
    expect(auditedRogue(a)).toBe(2 * (agents - 1) + 1)
    expect(b.store.agents.count()).toBe(agents) // nothing past the quota was relayed
    expect(a.store.misc.peerFaults().filter((f) => f.forged > 0)).toEqual([])
    expect(a.mesh.peers().map((p) => p.peerId)).toContain(rogue.peerId)
    expect(warnings.some((w) => /limits\.registry\.maxAgents/.test(w))).toBe(true)
  }, 60_000)

  it('leaves the node’s own agents registering', async () => {
    const own = await a.registerAgent('own-2')
    expect(a.store.agents.get(own.identity.did)?.origin).toBe('local')
    expect(a.store.agents.count()).toBe(MAX)
  })

  it('stops a catch-up by sync at the bound, charges nobody, and checks nothing it refused again', async () => {
    // at 1 agent c holds so little of b's registry that its rounds page through all of it (protocol.md §9)
    // 2: b's own key log and one agent
    const c = await startNode({ peers: [b.info().multiaddrs[0]!], init: { limits: { registry: { maxAgents: 2 } } } })
    try {
      await waitFor(() => c.store.agents.count() === 1, { timeout: 20_000, message: 'c caught up to its bound' })
      await c.syncFrom(b.mesh.peerId) // the round started on connect may still be running: this one follows it
      // a further round checks none of the registrations c refused again (protocol.md §9)
      const checked = countIngests(c, (e) => e.type === 'reg' && !c.store.agents.get(e.did ?? ''))
      await c.syncFrom(b.mesh.peerId)
      expect(checked()).toBe(0)
      expect(c.store.agents.count()).toBe(1)
      expect(unanchoredLogs(c)).toEqual([b.did]) // b: the peer node it synced from
      expect(c.store.misc.peerFaults().filter((f) => f.forged > 0)).toEqual([])
      expect(c.mesh.peers().map((p) => p.peerId)).toContain(b.mesh.peerId)
    } finally {
      await stopAll([c])
    }
  }, 60_000)
})

describe('a DID that rotates again and again', () => {
  it('has at most MAX_KEY_EVENTS key events stored, none audited past it; its revocation is still taken', async () => {
    const d = await startNode()
    try {
      await rogue.dial(d.info().multiaddrs[0]!)
      await waitFor(() => rogue.subscribers(REGISTRY).includes(d.mesh.peerId), { timeout: 15_000 })
      const keys = Array.from({ length: MAX_KEY_EVENTS + 3 }, () => generateKeyPair())
      const icp = createInception(keys[0]!, Date.now(), keys[1]!)
      const did = icp.did
      const reg = { did, name: 'rotator', capabilities: [], controller: did, peerId: rogue.peerId, ts: Date.now() }
      const events: Envelope[] = [createRegistration(reg, keys[0]!), icp]
      let state: KeyState = applyKeyEvent(undefined, icp)
      let atBound: KeyState | undefined
      for (let i = 1; i <= MAX_KEY_EVENTS + 1; i++) {
        const rot = createRotation(state, keys[i - 1]!, keys[i]!, Date.now(), keys[i + 1]!)
        if (i === MAX_KEY_EVENTS) atBound = state // the last state any node takes
        state = { ...state, seq: rot.seq, lastId: envelopeId(rot), key: rot.key, next: rot.next }
        events.push(rot)
      }
      for (const e of events) await rogue.publish(REGISTRY, encodeEnvelope(e))
      const last = MAX_KEY_EVENTS - 1
      await waitFor(() => d.store.keyEvents.state(did)?.seq === last, { timeout: 30_000, message: 'seq 255 stored' })
      // the rotations at seq 256 and 257 are not stored; a revocation on top of seq 255 is
      const rev = createRevocation(atBound!, keys[last]!, 'retired', Date.now())
      await rogue.publish(REGISTRY, encodeEnvelope(rev))
      await waitFor(() => d.store.keyEvents.state(did)?.revoked, { timeout: 15_000, message: 'revocation taken' })
      const log = d.store.keyEvents.log(did)
      expect(log).toHaveLength(MAX_KEY_EVENTS + 1)
      expect(log.at(-1)?.type).toBe('rev')
      const entries = d.store.auditEntries.entries(0, d.store.auditEntries.count())
      const aboutIt = entries.filter((r) => (JSON.parse(r.entry) as { subject?: string }).subject === did)
      expect(aboutIt).toHaveLength(MAX_KEY_EVENTS + 2) // reg, icp, 255 rotations, the revocation: the refused left none
      expect(d.store.misc.peerFaults().filter((f) => f.forged > 0)).toEqual([])
    } finally {
      await stopAll([d])
    }
  }, 120_000)
})
