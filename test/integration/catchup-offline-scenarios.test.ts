/**
 * Review 99 (catch-up): a node offline while others register, rotate (agents and a node key), move and
 * revoke ends, after it returns, with the same key states and registrations as the nodes that saw it all.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRevocation,
  createRotation,
  generateKeyPair,
  toB64,
  type KeyPair,
  type KeyState,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { ANONYMOUS, OPERATOR } from '../../node/services/authority.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { createIdentity, loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import { waitFor } from '../helpers/wait-for.js'

const dir = tempDir()
let nodes: (MeshNode | undefined)[] = []
afterAll(async () => {
  await stopAll(nodes)
  dir.cleanup()
})

function snapshot(n: MeshNode, dids: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const d of dids) {
    const s = n.store.keyEvents.state(d)
    const a = n.store.agents.get(d)
    out[d.slice(-8)] = {
      seq: s?.seq,
      key: s?.key,
      revoked: s?.revoked ? s.revoked.by : null,
      reg: a?.regId,
      controller: a?.controller,
    }
  }
  return out
}

async function ownAgent(node: MeshNode): Promise<{ did: string; key: KeyPair; next: KeyPair }> {
  const key = generateKeyPair()
  const next = generateKeyPair()
  const ts = Date.now()
  const icp = createInception(key, ts, next)
  const info = node.info()
  const reg = createRegistration(
    { did: icp.did, name: 'own', capabilities: [], controller: info.did, peerId: info.peerId, ts },
    key,
  )
  await node.registerExternalAgent(icp, reg)
  return { did: icp.did, key, next }
}

describe('a node offline during registrations, rotations, moves and revocations', () => {
  it('ends with the same registry as the nodes that saw them (re-registered own-key rotations, node key rotation)', async () => {
    const homeA = tempDir()
    createIdentity(homeA.dir)
    const a = await startNode({ name: 'a', transports: 'tcp', identity: loadIdentity(homeA.dir), home: homeA.dir })
    const b = await startNode({ name: 'b', transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    const idR = freshIdentity()
    const dbPath = `${dir.dir}/r.db`
    let r = await startNode({ name: 'r', transports: 'tcp', identity: idR, dbPath, peers: [b.info().multiaddrs[0]!] })
    nodes = [a, b, r]
    const c1 = await a.registerAgent('c1')
    const c2 = await a.registerAgent('c2')
    const o1 = await ownAgent(a)
    const o2 = await ownAgent(a)
    const o3 = await ownAgent(a)
    const o4 = await ownAgent(a)
    const o5 = await ownAgent(a)
    const dids = [c1.identity.did, c2.identity.did, o1.did, o2.did, o3.did, o4.did, o5.did, a.did]
    await waitFor(() => dids.slice(0, -1).every((d) => r.store.agents.get(d) !== undefined), { timeout: 20_000 })
    await r.stop()

    // while r is away
    await a.rotateAgent({ did: c1.identity.did, authority: OPERATOR })
    await a.rotateAgent({ did: c1.identity.did, authority: OPERATOR })
    await a.revokeAgent({ did: c2.identity.did, reason: 'x', authority: OPERATOR })
    // o1 rotates by itself and registers again under its new key
    const s1 = a.store.keyEvents.state(o1.did) as KeyState
    const f1 = generateKeyPair()
    await a.rotateAgent({
      did: o1.did,
      envelope: createRotation(s1, o1.key, o1.next, Date.now(), f1),
      authority: ANONYMOUS,
    })
    const info = a.info()
    const reg1 = createRegistration(
      { did: o1.did, name: 'own', capabilities: [], controller: info.did, peerId: info.peerId, ts: Date.now() },
      o1.next,
    )
    expect((await a.submitEnvelope(reg1)).ok).toBe(true)
    // o2 moves to b as its controller, and b revokes it
    const bi = b.info()
    const moved = createRegistration(
      { did: o2.did, name: 'own', capabilities: [], controller: bi.did, peerId: bi.peerId, ts: Date.now() },
      o2.key,
    )
    expect((await b.submitEnvelope(moved)).ok).toBe(true)
    await waitFor(() => a.store.agents.get(o2.did)?.controller === bi.did, { timeout: 10_000 })
    await b.revokeAgent({ did: o2.did, reason: 'moved and gone', authority: OPERATOR })
    // o3 revokes itself
    const s3 = a.store.keyEvents.state(o3.did) as KeyState
    await a.revokeAgent({
      did: o3.did,
      reason: 'self',
      envelope: createRevocation(s3, o3.key, 'self', Date.now()),
      authority: ANONYMOUS,
    })
    // o5 rotates seed style (the node signs its registration again with the new key), then a revokes it
    await a.rotateAgent({
      did: o5.did,
      currentPrivateKey: toB64(o5.key.seed),
      nextPrivateKey: toB64(o5.next.seed),
      authority: ANONYMOUS,
    })
    await a.revokeAgent({ did: o5.did, reason: 'retired', authority: OPERATOR })
    // a's node key rotates, then a revokes o4 as its controller with the new key
    const { rotation } = rotateIdentity(homeA.dir)
    await a.rotateAgent({ did: a.did, envelope: rotation, authority: OPERATOR })
    await waitFor(() => b.store.keyEvents.state(a.did)?.seq === 1, { timeout: 15_000 })
    await a.revokeAgent({ did: o4.did, reason: 'by the new node key', authority: OPERATOR })
    await waitFor(() => JSON.stringify(snapshot(a, dids)) === JSON.stringify(snapshot(b, dids)), { timeout: 20_000 })

    r = await startNode({ name: 'r', transports: 'tcp', identity: idR, dbPath, peers: [b.info().multiaddrs[0]!] })
    nodes = [a, b, r]
    await waitFor(() => JSON.stringify(snapshot(r, dids)) === JSON.stringify(snapshot(b, dids)), {
      timeout: 30_000,
    }).catch(() => undefined)
    expect(snapshot(r, dids)).toEqual(snapshot(b, dids))
  }, 120_000)
})
