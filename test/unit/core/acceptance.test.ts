import { describe, expect, it } from 'vitest'
import {
  acceptEnvelope,
  controllerUnknown,
  createInception,
  createMessage,
  createRevocation,
  createRotation,
  DEFAULT_MAX_SKEW_MS,
  didFromPublicKey,
  generateKeyPair,
  type AcceptanceContext,
  type KeyPair,
  type KeyState,
} from '../../../node/core/index.js'

const NOW = 1_764_000_000_000

function contextWith(states: Map<string, KeyState>, seen = new Set<string>()): AcceptanceContext {
  return {
    now: NOW,
    maxSkewMs: DEFAULT_MAX_SKEW_MS,
    keyState: (did) => states.get(did),
    controllerOf: () => undefined,
    nonceSeen: (from, nonce) => seen.has(`${from} ${nonce}`),
    hasEnvelope: () => false,
    eventIdAt: () => undefined,
  }
}

const nonce = (b: number): Uint8Array => new Uint8Array(16).fill(b)

/** A DID whose own key revoked it, as acceptance took its inception and then its revocation. */
function revokedDid(): { k0: KeyPair; did: string; state: KeyState } {
  const k0 = generateKeyPair()
  const icp = acceptEnvelope(createInception(k0, NOW), contextWith(new Map()), { fresh: true })
  if (!icp.ok || !icp.keyState) throw new Error('icp refused')
  const ctx = contextWith(new Map([[icp.keyState.did, icp.keyState]]))
  const rev = acceptEnvelope(createRevocation(icp.keyState, k0, 'leaked', NOW), ctx, { fresh: true })
  if (!rev.ok || !rev.keyState) throw new Error('rev refused')
  return { k0, did: rev.keyState.did, state: rev.keyState }
}

describe('acceptEnvelope', () => {
  it('accepts a fresh message from an unknown DID signed by its inception key', () => {
    const alice = generateKeyPair()
    const from = didFromPublicKey(alice.publicKey)
    const msg = createMessage({ from, to: null, body: 'hi', ts: NOW, nonce: nonce(1) }, alice)
    const verdict = acceptEnvelope(msg, contextWith(new Map()), { fresh: true })
    expect(verdict.ok).toBe(true)
  })

  it('rejects old-key messages after rotation as ROTATED_KEY, attributable to the sender', () => {
    const k0 = generateKeyPair()
    const k1 = generateKeyPair()
    const states = new Map<string, KeyState>()
    const ctx = contextWith(states)
    const icp = acceptEnvelope(createInception(k0, NOW, k1), ctx, { fresh: true })
    if (!icp.ok || !icp.keyState) throw new Error('icp refused')
    states.set(icp.keyState.did, icp.keyState)
    const rot = acceptEnvelope(createRotation(icp.keyState, k0, k1, NOW), ctx, { fresh: true })
    if (!rot.ok || !rot.keyState) throw new Error('rot refused')
    states.set(rot.keyState.did, rot.keyState)
    const did = icp.keyState.did
    const oldMsg = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: nonce(2) }, k0)
    const verdict = acceptEnvelope(oldMsg, ctx, { fresh: true })
    expect(verdict.ok).toBe(false)
    if (verdict.ok) return
    expect(verdict.error.code).toBe('ROTATED_KEY')
    expect(verdict.attributableTo).toBe(did)
    const newMsg = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: nonce(3) }, k1)
    expect(acceptEnvelope(newMsg, ctx, { fresh: true }).ok).toBe(true)
  })

  it('rejects a rotation that reveals an uncommitted key', () => {
    const k0 = generateKeyPair()
    const committed = generateKeyPair()
    const other = generateKeyPair()
    const states = new Map<string, KeyState>()
    const ctx = contextWith(states)
    const icp = acceptEnvelope(createInception(k0, NOW, committed), ctx, { fresh: true })
    if (!icp.ok || !icp.keyState) throw new Error('icp refused')
    states.set(icp.keyState.did, icp.keyState)
    const verdict = acceptEnvelope(createRotation(icp.keyState, k0, other, NOW), ctx, { fresh: true })
    expect(verdict.ok ? 'accepted' : verdict.error.code).toBe('PRE_ROTATION_MISMATCH')
  })

  it('after revocation, messages from and to the DID are REVOKED', () => {
    const bob = generateKeyPair()
    const { k0, did, state } = revokedDid()
    const ctx = contextWith(new Map([[did, state]]))
    const from = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: nonce(4) }, k0)
    const bobDid = didFromPublicKey(bob.publicKey)
    const to = createMessage({ from: bobDid, to: did, body: 'x', ts: NOW, nonce: nonce(5) }, bob)
    for (const m of [from, to]) {
      const v = acceptEnvelope(m, ctx, { fresh: true })
      expect(v.ok ? 'accepted' : v.error.code).toBe('REVOKED')
    }
  })

  it('junk naming a revoked DID is REVOKED with signed: false (not audited), a message its key signed REVOKED', () => {
    const { k0, did, state } = revokedDid()
    const ctx = contextWith(new Map([[did, state]]))
    const junk = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: nonce(6) }, generateKeyPair())
    const v = acceptEnvelope(junk, ctx, { fresh: true })
    expect(v.ok ? 'accepted' : [v.error.code, v.error.details?.signed]).toEqual(['REVOKED', false])
    const real = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: nonce(7) }, k0)
    const w = acceptEnvelope(real, ctx, { fresh: true })
    expect(w.ok ? 'accepted' : [w.error.code, w.error.details?.signed]).toEqual(['REVOKED', undefined])
  })

  it('rejects a replayed nonce and a stale timestamp, attributable to the sender', () => {
    const alice = generateKeyPair()
    const from = didFromPublicKey(alice.publicKey)
    const msg = createMessage({ from, to: null, body: 'hi', ts: NOW, nonce: nonce(6) }, alice)
    const replay = acceptEnvelope(msg, contextWith(new Map(), new Set([`${from} ${msg.nonce}`])), { fresh: true })
    expect(replay.ok ? 'accepted' : replay.error.code).toBe('REPLAY')
    const stale = createMessage(
      { from, to: null, body: 'hi', ts: NOW - DEFAULT_MAX_SKEW_MS - 1, nonce: nonce(7) },
      alice,
    )
    const v = acceptEnvelope(stale, contextWith(new Map()), { fresh: true })
    expect(v.ok ? 'accepted' : v.error.code).toBe('CLOCK_SKEW')
    expect(v.ok ? undefined : v.attributableTo).toBe(from)
    expect(acceptEnvelope(stale, contextWith(new Map()), { fresh: false }).ok).toBe(true)
  })

  it('a forged signature is SIGNATURE_INVALID and attributes to nobody', () => {
    const alice = generateKeyPair()
    const mallory = generateKeyPair()
    const from = didFromPublicKey(alice.publicKey)
    const forged = createMessage({ from, to: null, body: 'pay me', ts: NOW, nonce: nonce(8) }, mallory)
    const v = acceptEnvelope(forged, contextWith(new Map()), { fresh: true })
    expect(v.ok ? 'accepted' : v.error.code).toBe('SIGNATURE_INVALID')
    expect(v.ok ? 'x' : v.attributableTo).toBeUndefined()
  })
})

describe('a revocation of a DID whose controller this node does not know (decision 0069)', () => {
  const agent = generateKeyPair()
  const controller = generateKeyPair()
  const icp = acceptEnvelope(createInception(agent, NOW), contextWith(new Map()), { fresh: true })
  if (!icp.ok || !icp.keyState) throw new Error('icp refused')
  const state = icp.keyState
  const byController = createRevocation(state, controller, 'retired', NOW)

  function judged(controllerOf: string | undefined) {
    const ctx = { ...contextWith(new Map([[state.did, state]])), controllerOf: () => controllerOf }
    return acceptEnvelope(byController, ctx, { fresh: true })
  }

  it('with no registration here: UNKNOWN_SIGNER, naming its DID, charged to nobody (its controller may have signed it)', () => {
    const v = judged(undefined)
    expect(v.ok ? 'accepted' : v.error.code).toBe('UNKNOWN_SIGNER')
    expect(v.ok ? undefined : controllerUnknown(v)).toBe(state.did)
    expect(v.ok ? 'x' : v.attributableTo).toBeUndefined()
  })

  it('with a registration naming its controller it is taken; naming another, or the DID itself, it is forged', () => {
    expect(judged(didFromPublicKey(controller.publicKey)).ok).toBe(true)
    for (const named of [didFromPublicKey(generateKeyPair().publicKey), state.did]) {
      const v = judged(named)
      expect(v.ok ? 'accepted' : v.error.code).toBe('SIGNATURE_INVALID')
      expect(v.ok ? 'x' : controllerUnknown(v)).toBeUndefined()
    }
  })

  it('the DID’s own revocation is taken with or without a registration', () => {
    const own = createRevocation(state, agent, 'done', NOW)
    const ctx = contextWith(new Map([[state.did, state]]))
    expect(acceptEnvelope(own, ctx, { fresh: true }).ok).toBe(true)
  })
})
