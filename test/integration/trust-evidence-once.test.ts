import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  createRegistration,
  DEFAULT_MAX_SKEW_MS,
  encodeEnvelope,
  generateKeyPair,
  createInception,
  keyPairFromB64,
} from '../../node/core/index.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { emptyRegistry } from './flood-rogue.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('evidence against a DID', () => {
  let node: MeshNode

  beforeAll(async () => {
    node = await startNode()
  })
  afterAll(() => stopAll([node]))

  it('records a stale message once and never against its signer: twenty re-deliveries are duplicates', async () => {
    const { identity } = await node.registerAgent('honest', [])
    const key = keyPairFromB64(identity.privateKey)
    const stale = createMessage(
      {
        from: identity.did,
        to: null,
        body: 'old news',
        ts: Date.now() - DEFAULT_MAX_SKEW_MS - 60_000,
        nonce: new Uint8Array(16).fill(3),
      },
      key,
    )
    const first = await node.submitEnvelope(stale, 'replayer')
    expect(first.ok ? 'accepted' : first.error.code).toBe('CLOCK_SKEW')
    const afterOne = node.agents.record(identity.did)!.trustScore
    expect(afterOne).toBe(0.5)
    const charged = node.trust.report().peers.find((p) => p.peer.includes('replayer'))
    expect(charged?.failures).toBe(1)
    for (let i = 0; i < 20; i++) {
      const again = await node.submitEnvelope(stale, 'replayer')
      expect(again.ok ? 'accepted' : again.error.code).toBe('DUPLICATE')
    }
    expect(node.agents.record(identity.did)!.trustScore).toBe(afterOne)
    const rejections = node.store.auditEntries
      .entries(0, node.store.auditEntries.count())
      .map((r) => JSON.parse(r.entry) as { kind: string; code: string | null; subject: string | null })
      .filter((e) => e.kind === 'envelope.rejected' && e.subject === identity.did)
    expect(rejections).toHaveLength(1)
  })
})

describe('a registration gossiped by someone else that names this node as controller', () => {
  let node: MeshNode
  let rogue: MeshP2P

  beforeAll(async () => {
    node = await startNode()
    rogue = await createMeshP2P({
      seed: generateKeyPair().seed,
      transports: 'memory',
      listen: [`/memory/rogue-ctl-${process.pid}-${Date.now()}`],
      validate: () => 'accept',
      onMessage: () => undefined,
      syncProvider: emptyRegistry,
      heartbeatInterval: 200,
    })
    await rogue.start()
    await rogue.dial(node.info().multiaddrs[0]!)
    await waitFor(() => rogue.subscribers('meshsig/v1/registry').includes(node.mesh.peerId), { timeout: 15_000 })
  })
  afterAll(async () => {
    await rogue?.stop()
    await stopAll([node])
  })

  it('is a remote agent: the node neither serves it as its own nor announces it', async () => {
    const intruder = generateKeyPair()
    const icp = createInception(intruder, Date.now())
    const reg = createRegistration(
      {
        did: icp.did,
        name: 'intruder',
        capabilities: [{ type: 'payments' }],
        controller: node.did,
        peerId: rogue.peerId,
        ts: Date.now(),
      },
      intruder,
    )
    await rogue.publish('meshsig/v1/registry', encodeEnvelope(icp))
    await rogue.publish('meshsig/v1/registry', encodeEnvelope(reg))
    await waitFor(() => node.agents.record(icp.did) !== undefined, { timeout: 15_000 })
    expect(node.agents.record(icp.did)!.origin).toBe('remote')
    expect(node.agents.list({ origin: 'local' }).map((a) => a.did)).not.toContain(icp.did)
  })
})
