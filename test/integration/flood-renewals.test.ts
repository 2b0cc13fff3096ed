/**
 * The renewal budget (docs/protocol.md §7, "Registry quota"): the holder of
 * one registered DID signs valid registrations of it again and again, each
 * dated a millisecond after the last, and a real rogue libp2p peer gossips
 * them. Each was stored, audited and relayed: one key made every node's
 * audit log grow without bound. Now a node takes at most
 * `limits.registry.renewalsPerDid` registrations of a known DID from the
 * mesh per `renewalWindowMs`; the rest are neither stored, audited nor
 * relayed, nobody is charged (they are valid), the operator is warned, and
 * the next window takes the DID's registration again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
  type KeyPair,
} from '../../node/core/index.js'
import { createLogger } from '../../node/logger.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { gossipMarker, rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const RENEWALS = 3
const WINDOW_MS = 4_000
const FLOOD = 30
let a: MeshNode
let b: MeshNode
let rogue: MeshP2P
const warnings: string[] = []
const key: KeyPair = generateKeyPair()
let did = ''
let firstTs = 0

/** Audit entries of `node` about the rogue's DID. */
function audited(node: MeshNode): number {
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.filter((r) => (JSON.parse(r.entry) as { subject?: string | null }).subject === did).length
}

/** The rogue's registration of its DID named `name`, dated `ts`. */
function registration(name: string, ts: number): Uint8Array {
  const init = { did, name, capabilities: [], controller: did, peerId: rogue.peerId, ts }
  return encodeEnvelope(createRegistration(init, key))
}

/** Gossip a message from the DID and wait until `node` took it: `node` has handled all gossiped before it. */
function marker(node: MeshNode, body: string): Promise<void> {
  return gossipMarker(rogue, node, key, did, body)
}

beforeAll(async () => {
  const limits = { registry: { renewalsPerDid: RENEWALS, renewalWindowMs: WINDOW_MS } }
  const logger = createLogger({ level: 'warn', json: true, write: (line) => void warnings.push(line) })
  a = await startNode({ init: { limits, logger } })
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  rogue = await rogueP2P('renewals')
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  await waitFor(() => a.mesh.meshPeers(REGISTRY).includes(b.mesh.peerId), { timeout: 15_000 })
  const icp = createInception(key, Date.now())
  did = icp.did
  firstTs = Date.now()
  await rogue.publish(REGISTRY, registration('first', firstTs))
  await rogue.publish(REGISTRY, encodeEnvelope(icp))
  await waitFor(() => b.store.agents.get(did), { timeout: 15_000, message: 'b has the first registration' })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a, b])
})

describe('a registered DID that registers again and again', () => {
  it('has at most renewalsPerDid registrations a window stored, audited or relayed; nobody is charged', async () => {
    const before = audited(a)
    for (let i = 1; i <= FLOOD; i++) await rogue.publish(REGISTRY, registration(`renewal ${i}`, firstTs + i))
    await marker(a, 'after the flood')
    await marker(b, 'after the flood')

    expect(a.store.agents.get(did)?.name).toBe(`renewal ${RENEWALS}`)
    expect(audited(a) - before).toBe(RENEWALS + 1) // the renewals taken and the marker message
    // b (default budget) got only what a relayed
    await waitFor(() => b.store.agents.get(did)?.name === `renewal ${RENEWALS}`, { timeout: 15_000 })
    expect(a.store.misc.peerFaults().filter((f) => f.forged > 0)).toEqual([])
    expect(a.mesh.peers().map((p) => p.peerId)).toContain(rogue.peerId)
    expect(warnings.some((w) => /limits\.registry\.renewalsPerDid/.test(w))).toBe(true)
  }, 60_000)

  it('has its registration taken again in the next window', async () => {
    await new Promise((r) => setTimeout(r, WINDOW_MS + 200))
    await rogue.publish(REGISTRY, registration('next window', firstTs + FLOOD + 1))
    await waitFor(() => a.store.agents.get(did)?.name === 'next window', { timeout: 15_000 })
    await waitFor(() => b.store.agents.get(did)?.name === 'next window', { timeout: 15_000 })
  }, 30_000)
})
