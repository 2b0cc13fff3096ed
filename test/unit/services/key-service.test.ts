// Key rotation and revocation through the key service (node/services/key-service.ts) on an
// in-memory node: proof is needed (docs/protocol.md §8), pre-rotation commitments hold
// (docs/protocol.md §6), a revocation is final, and a refused request changes nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  keyCommitment,
  toB64,
  verifyEnvelopeSignature,
  type KeyState,
  type RegEnvelope,
} from '../../../node/core/index.js'
import { MeshsigError } from '../../../node/core/errors.js'
import { ANONYMOUS, OPERATOR } from '../../../node/services/authority.js'
import { KeyPairCache } from '../../../node/services/key-cache.js'
import { KeyService } from '../../../node/services/key-service.js'
import {
  auditEntries,
  kitAgent,
  kitNode,
  seededRandom,
  type KitAgent,
  type KitNode,
} from '../../helpers/service-kit.js'

/** Another node's DID, controller of the agents this node does not host. */
const OTHER_NODE = didFromPublicKey(generateKeyPair(seededRandom('other node')).publicKey)
let n: KitNode
let keys: KeyService

beforeEach(() => {
  n = kitNode()
  keys = new KeyService({
    store: n.store,
    ingest: n.ingest,
    clock: n.clock.now,
    random: n.random,
    keys: new KeyPairCache(),
    nodeDid: () => n.did,
    nodeKey: () => n.key,
  })
})
afterEach(() => n.close())

/** An agent known to the node, controlled by `controller` (another node unless said). */
function agent(controller = OTHER_NODE): KitAgent {
  const a = kitAgent(n.random, n.clock.ms, { controller, peerId: n.peerId })
  for (const e of [a.icp, a.reg])
    expect(n.ingest.ingest(e, { kind: 'gossip', peer: 'p' }, { fresh: false }).ok).toBe(true)
  return a
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof MeshsigError) return err.code
    throw err
  }
  return 'no error'
}

function state(did: string): KeyState | undefined {
  return n.store.keyEvents.state(did)
}

describe('rotation', () => {
  it('rotates to the committed next key with the current private key, and returns only the new next key', () => {
    const a = agent()
    n.clock.advance(1000)
    const r = keys.rotate({
      did: a.did,
      currentPrivateKey: toB64(a.key.seed),
      nextPrivateKey: toB64(a.next.seed),
      authority: ANONYMOUS,
    })
    expect(r).toMatchObject({ did: a.did, keySeq: 1, publicKey: toB64(a.next.publicKey), custodied: false })
    expect(r.privateKey).toBeUndefined()
    expect(state(a.did)?.key).toBe(toB64(a.next.publicKey))
    expect(state(a.did)?.next).not.toBe(keyCommitment(a.next.publicKey))
    // the new key passed through here: it signs the registration held again, same profile (decision 0070)
    expect(auditEntries(n.store).slice(-2)).toMatchObject([
      { kind: 'key.rotated', subject: a.did },
      { kind: 'agent.registered', subject: a.did },
    ])
    const held = JSON.parse(n.store.agents.get(a.did)!.regEnvelope) as RegEnvelope
    expect(r.registration).toEqual(held)
    expect(() => verifyEnvelopeSignature(held, a.next.publicKey)).not.toThrow()
    const { name, capabilities, controller, peerId } = a.reg
    expect(held).toMatchObject({ name, capabilities, controller, peerId })
    expect(held.ts).toBeGreaterThan(a.reg.ts)
  })

  it('refuses without proof, with a key that is not the current one, or with a next key not committed to', () => {
    const a = agent()
    const other = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId })
    const before = { state: state(a.did), entries: auditEntries(n.store).length }
    expect(codeOf(() => keys.rotate({ did: a.did, authority: OPERATOR }))).toBe('UNAUTHORIZED')
    const wrongCurrent = { did: a.did, currentPrivateKey: toB64(other.key.seed), authority: ANONYMOUS }
    expect(codeOf(() => keys.rotate(wrongCurrent))).toBe('KEY_MISMATCH')
    const noNext = { did: a.did, currentPrivateKey: toB64(a.key.seed), authority: ANONYMOUS }
    expect(codeOf(() => keys.rotate(noNext))).toBe('PRE_ROTATION_MISMATCH')
    expect(codeOf(() => keys.rotate({ ...noNext, nextPrivateKey: toB64(other.next.seed) }))).toBe(
      'PRE_ROTATION_MISMATCH',
    )
    expect(codeOf(() => keys.rotate({ did: other.did, authority: OPERATOR }))).toBe('NOT_FOUND')
    expect({ state: state(a.did), entries: auditEntries(n.store).length }).toEqual(before)
  })

  it('rotates a custodied agent for its own credential or the operator, never for another agent', () => {
    const a = agent(n.did)
    n.store.custody.put({ did: a.did, seed: toB64(a.key.seed), nextSeed: toB64(a.next.seed), createdAt: n.clock.ms })
    const before = state(a.did)
    const otherAgent = { kind: 'agent', did: 'did:msig:z6MkSomeoneElse' } as const
    expect(codeOf(() => keys.rotate({ did: a.did, authority: otherAgent }))).toBe('FORBIDDEN')
    expect(codeOf(() => keys.rotate({ did: a.did, authority: ANONYMOUS }))).toBe('UNAUTHORIZED')
    expect(state(a.did)).toEqual(before)
    n.clock.advance(1000)
    const r = keys.rotate({ did: a.did, authority: { kind: 'agent', did: a.did } })
    expect(r).toMatchObject({ custodied: true, publicKey: toB64(a.next.publicKey) })
    expect(r.privateKey).toBeUndefined()
    expect(r.nextPrivateKey).toBeUndefined()
    expect(n.store.custody.get(a.did)?.seed).toBe(toB64(a.next.seed))
    expect(JSON.parse(n.store.agents.get(a.did)?.regEnvelope ?? '{}')).toEqual(r.registration)
    expect(keys.rotate({ did: a.did, authority: OPERATOR }).keySeq).toBe(2)
  })
})

describe('a signed rotation with the registration its new key signed (decision 0070)', () => {
  function signed(a: KitAgent, key = a.next, did = a.did) {
    n.clock.advance(1000)
    const rot = createRotation(state(a.did)!, a.key, a.next, n.clock.ms, generateKeyPair(n.random))
    const reg = createRegistration({ ...a.reg, did, ts: n.clock.ms }, key)
    return { rot, reg }
  }

  it('stores both in one go and answers the registration, for gossip after the rotation', () => {
    const a = agent()
    const { rot, reg } = signed(a)
    const r = keys.rotate({ did: a.did, envelope: rot, registration: reg, authority: ANONYMOUS })
    expect(r).toMatchObject({ keySeq: 1, custodied: false, registration: reg })
    expect(n.store.agents.get(a.did)?.regId).toBe(envelopeId(reg))
  })

  it('a registration the old key signed, of another DID, or with no registration held here: refused, nothing changes', () => {
    const a = agent()
    const stranger = kitAgent(n.random, n.clock.ms, { controller: OTHER_NODE, peerId: n.peerId })
    expect(n.ingest.ingest(stranger.icp, { kind: 'gossip', peer: 'p' }, { fresh: false }).ok).toBe(true)
    const cases: Array<[string, () => unknown]> = [
      ['SIGNATURE_INVALID', () => signed(a, a.key)],
      ['INVALID_INPUT', () => signed(a, a.next, stranger.did)],
    ]
    const before = { state: state(a.did), reg: n.store.agents.get(a.did)?.regId, entries: auditEntries(n.store).length }
    for (const [code, make] of cases) {
      const { rot, reg } = make() as ReturnType<typeof signed>
      expect(codeOf(() => keys.rotate({ did: a.did, envelope: rot, registration: reg, authority: ANONYMOUS }))).toBe(
        code,
      )
    }
    expect(codeOf(() => keys.rotate({ did: a.did, registration: a.reg, authority: OPERATOR }))).toBe('INVALID_INPUT')
    const s0 = state(stranger.did)!
    const rot = createRotation(s0, stranger.key, stranger.next, n.clock.ms)
    const reg = createRegistration({ ...stranger.reg, ts: n.clock.ms }, stranger.next)
    expect(
      codeOf(() => keys.rotate({ did: stranger.did, envelope: rot, registration: reg, authority: ANONYMOUS })),
    ).toBe('INVALID_INPUT')
    expect(state(stranger.did)).toEqual(s0)
    expect({
      state: state(a.did),
      reg: n.store.agents.get(a.did)?.regId,
      entries: auditEntries(n.store).length,
    }).toEqual(before)
  })
})

describe("the node's own key", () => {
  it('rotates only with a signed rot its identity file holds, then switches the running node to it', () => {
    const next = generateKeyPair(n.random)
    const icp = createInception(n.key, n.clock.ms, next)
    expect(n.ingest.ingest(icp, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const state = n.store.keyEvents.state(n.did)
    if (state === undefined) throw new Error('the node inception was not stored')
    n.clock.advance(1000)
    const rot = createRotation(state, n.key, next, n.clock.ms, generateKeyPair(n.random))
    const adopted: string[] = []
    const held = new Set<string>()
    const service = new KeyService({
      store: n.store,
      ingest: n.ingest,
      clock: n.clock.now,
      random: n.random,
      keys: new KeyPairCache(),
      nodeDid: () => n.did,
      nodeKey: () => n.key,
      ownRotation: (id) => (held.has(id) ? () => void adopted.push(id) : undefined),
    })
    expect(codeOf(() => service.rotate({ did: n.did, authority: OPERATOR }))).toBe('FORBIDDEN')
    expect(codeOf(() => service.rotate({ did: n.did, envelope: rot, authority: OPERATOR }))).toBe('FORBIDDEN')
    expect(n.store.keyEvents.state(n.did)).toEqual(state)
    held.add(envelopeId(rot))
    expect(service.rotate({ did: n.did, envelope: rot, authority: OPERATOR }).publicKey).toBe(toB64(next.publicKey))
    expect(adopted).toEqual([envelopeId(rot)])
    expect(n.store.keyEvents.state(n.did)?.key).toBe(toB64(next.publicKey))
  })
})

describe('revocation', () => {
  it('revokes with the current private key, and then refuses every rotation and revocation as REVOKED', () => {
    const a = agent()
    const rev = keys.revoke({ did: a.did, reason: 'lost laptop', privateKey: toB64(a.key.seed), authority: ANONYMOUS })
    expect(rev).toMatchObject({ type: 'rev', did: a.did, reason: 'lost laptop' })
    expect(state(a.did)?.revoked).toBeTruthy()
    expect(auditEntries(n.store).at(-1)).toMatchObject({ kind: 'agent.revoked', subject: a.did })
    const rotate = { did: a.did, currentPrivateKey: toB64(a.key.seed), authority: ANONYMOUS }
    expect(codeOf(() => keys.rotate(rotate))).toBe('REVOKED')
    expect(codeOf(() => keys.revoke({ did: a.did, reason: 'x', authority: OPERATOR }))).toBe('REVOKED')
  })

  it('lets the operator revoke an agent the node controls with the node key, and nobody else without proof', () => {
    const a = agent(n.did)
    const before = state(a.did)
    expect(codeOf(() => keys.revoke({ did: a.did, reason: 'r', authority: ANONYMOUS }))).toBe('UNAUTHORIZED')
    const asAgent = { kind: 'agent', did: a.did } as const
    expect(codeOf(() => keys.revoke({ did: a.did, reason: 'r', authority: asAgent }))).toBe('FORBIDDEN')
    expect(state(a.did)).toEqual(before)
    keys.revoke({ did: a.did, reason: 'decommissioned', authority: OPERATOR })
    expect(state(a.did)?.revoked).toMatchObject({ by: 'controller' })
  })

  it('destroys the custodied seed of a revoked agent in the same transaction', () => {
    const a = agent(n.did)
    n.store.custody.put({ did: a.did, seed: toB64(a.key.seed), nextSeed: toB64(a.next.seed), createdAt: n.clock.ms })
    keys.revoke({ did: a.did, reason: 'done', authority: { kind: 'agent', did: a.did } })
    expect(n.store.custody.get(a.did)).toBeUndefined()
  })
})
