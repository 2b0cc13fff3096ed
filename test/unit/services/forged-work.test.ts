// Work per forged envelope naming a DID with a full key log (256 events): a few signature checks, not one per key.
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
  createMessage,
  createRegistration,
  createRotation,
  generateKeyPair,
  MAX_KEY_EVENTS,
  PRIOR_KEYS_TRIED,
  signEnvelope,
  toB64,
  type RevEnvelope,
} from '../../../node/core/index.js'
import { kitAgent, kitNode } from '../../helpers/service-kit.js'

const gossip = { kind: 'gossip' as const, peer: 'relay' }
const forgedSig = toB64(new Uint8Array(64).fill(1))

describe('work per forged envelope naming a DID with a full key log', () => {
  const n = kitNode({ seed: 'victim' })
  const ag = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId })
  for (const e of [ag.icp, ag.reg]) expect(n.ingest.ingest(e, gossip, { fresh: false }).ok).toBe(true)
  let cur = ag.key
  let next = ag.next
  for (let seq = 1; seq < MAX_KEY_EVENTS; seq++) {
    const following = generateKeyPair()
    const rot = createRotation(n.store.keyEvents.state(ag.did)!, cur, next, n.clock.ms + seq, following)
    expect(n.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    cur = next
    next = following
  }
  const reg = createRegistration(
    {
      did: ag.did,
      name: 'a',
      capabilities: [{ type: 'test' }],
      controller: n.did,
      peerId: n.peerId,
      ts: n.clock.ms + 999,
    },
    cur,
  )
  expect(n.ingest.ingest(reg, gossip, { fresh: false }).ok).toBe(true)
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
