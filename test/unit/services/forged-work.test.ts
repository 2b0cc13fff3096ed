// Work per forged envelope: naming a DID with a full key log (256 events), a few signature checks, not one per
// key; naming a revoked DID whose log and controller's log hold more than PRIOR_KEYS_TRIED retired keys, no more
// than a check or two, charged or not audited.
import { describe, expect, it, vi } from 'vitest'

const calls = vi.hoisted(() => ({ n: 0 }))
vi.mock('../../../node/core/keys.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../../node/core/keys.js')>()
  return {
    ...m,
    verifySignature: (...args: Parameters<typeof m.verifySignature>) => {
      calls.n++
      return m.verifySignature(...args)
    },
  }
})

import {
  createInception,
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  generateKeyPair,
  MAX_KEY_EVENTS,
  PRIOR_KEYS_TRIED,
  signEnvelope,
  toB64,
  type KeyPair,
  type RevEnvelope,
} from '../../../node/core/index.js'
import { auditEntries, kitAgent, kitNode, type KitNode } from '../../helpers/service-kit.js'

const gossip = { kind: 'gossip' as const, peer: 'relay' }
const forgedSig = toB64(new Uint8Array(64).fill(1))

/** Register `did` on `n` (as its controller) under `key`, the DID's current key. */
function registerUnder(n: KitNode, did: string, key: KeyPair, ts: number): void {
  const reg = createRegistration(
    { did, name: 'a', capabilities: [{ type: 'test' }], controller: n.did, peerId: n.peerId, ts },
    key,
  )
  expect(n.ingest.ingest(reg, { kind: 'gossip', peer: 'relay' }, { fresh: false }).ok).toBe(true)
}

function rotateMany(n: KitNode, did: string, first: KeyPair, next: KeyPair, times: number): KeyPair {
  let cur = first
  let nxt = next
  for (let i = 0; i < times; i++) {
    const following = generateKeyPair()
    const rot = createRotation(n.store.keyEvents.state(did)!, cur, nxt, n.clock.ms + i, following)
    expect(n.ingest.ingest(rot, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    cur = nxt
    nxt = following
  }
  return cur
}

describe('work per forged envelope naming a DID with a full key log', () => {
  const n = kitNode({ seed: 'victim' })
  const ag = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId })
  for (const e of [ag.icp, ag.reg]) expect(n.ingest.ingest(e, gossip, { fresh: false }).ok).toBe(true)
  const cur = rotateMany(n, ag.did, ag.key, ag.next, MAX_KEY_EVENTS - 1)
  registerUnder(n, ag.did, cur, n.clock.ms + 999)
  const log = n.store.keyEvents.log(ag.did)

  function verifiesFor(envelope: unknown): { code: string; verifies: number } {
    calls.n = 0
    const v = n.ingest.ingest(envelope, gossip, { fresh: true })
    return { code: v.ok ? 'ok' : v.error.code, verifies: calls.n }
  }

  it('a forged rotation and a forged revocation at an old seq cost a few signature checks', () => {
    const rot1 = log[1]!
    const forgedRot = { ...rot1, next: toB64(new Uint8Array(32).fill(3)), sig: forgedSig }
    const forgedRev = signEnvelope<RevEnvelope>(
      { v: 1, type: 'rev', did: ag.did, seq: 1, prev: 'a'.repeat(64), reason: 'x', ts: 1 },
      generateKeyPair(),
    )
    expect([verifiesFor(forgedRot), verifiesFor(forgedRev)].map((r) => r.verifies <= 3)).toEqual([true, true])
  })

  it('a forged message from it costs a few signature checks, not one per retired key', () => {
    const msg = createMessage(
      { from: ag.did, to: null, body: 'hi', ts: n.clock.ms, nonce: new Uint8Array(16).fill(5) },
      generateKeyPair(),
    )
    const r = verifiesFor(msg)
    expect(r.code).toBe('SIGNATURE_INVALID')
    expect(r.verifies).toBeLessThanOrEqual(1 + PRIOR_KEYS_TRIED)
  })
})

const rogue = { kind: 'gossip' as const, peer: 'rogue' }

describe('junk naming a revoked DID (Q2)', () => {
  const n = kitNode({ seed: 'host' })
  const nodeNext = generateKeyPair()
  expect(n.ingest.ingest(createInception(n.key, n.clock.ms, nodeNext), { kind: 'local' }, { fresh: false }).ok).toBe(
    true,
  )
  const nodeKey = rotateMany(n, n.did, n.key, nodeNext, 12) // the controller: 12 retired keys
  const ag = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId })
  expect(n.ingest.ingest(ag.icp, rogue, { fresh: false }).ok).toBe(true)
  const agKey = rotateMany(n, ag.did, ag.key, ag.next, 12) // the agent: 12 retired keys
  registerUnder(n, ag.did, agKey, n.clock.ms + 99)
  const st = n.store.keyEvents.state(ag.did)!
  expect(
    n.ingest.ingest(createRevocation(st, nodeKey, 'done', n.clock.ms + 100), { kind: 'local' }, { fresh: false }).ok,
  ).toBe(true)

  function run(junk: unknown): { code: string; verifies: number; audited: number; charged: boolean } {
    const before = auditEntries(n.store).length
    calls.n = 0
    const v = n.ingest.ingest(junk, rogue, { fresh: true })
    return {
      code: v.ok ? 'ok' : v.error.code,
      verifies: calls.n,
      audited: auditEntries(n.store).length - before,
      charged: (n.store.misc.peerFaults().find((f) => f.peer === 'rogue')?.forged ?? 0) > 0,
    }
  }

  it('costs at most a signature check or two and is charged to its deliverer, or is at least not audited', () => {
    const junkReg = createRegistration(
      {
        did: ag.did,
        name: 'x',
        capabilities: [{ type: 'test' }],
        controller: n.did,
        peerId: n.peerId,
        ts: n.clock.ms + 500,
      },
      generateKeyPair(),
    )
    const junkMsg = createMessage(
      { from: ag.did, to: null, body: 'x', ts: n.clock.ms, nonce: new Uint8Array(16).fill(3) },
      generateKeyPair(),
    )
    const junkRev = createRevocation(st, generateKeyPair(), 'x', n.clock.ms + 501)
    const results = { reg: run(junkReg), msg: run(junkMsg), rev: run(junkRev) }
    // not audited, and charged or at most a check or two (a revocation of a revoked DID checks nothing)
    const ok = (r: { verifies: number; audited: number; charged: boolean }) =>
      r.audited === 0 && (r.charged || r.verifies <= 2)
    expect({ reg: ok(results.reg), msg: ok(results.msg), rev: ok(results.rev) }).toEqual({
      reg: true,
      msg: true,
      rev: true,
    })
  })
})
