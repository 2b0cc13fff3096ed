/**
 * `provenKeyState` (node/core/key-log-proof.ts): the current key of a DID is
 * what its own signed key events prove from the DID alone, never what a
 * server names. The log must start with the inception of the key the DID
 * names (SPEC §1) and every rotation must hold by the log rules; anything
 * else is KEL_INVALID with the broken rule as `details.cause` (attack review
 * 61: an impostor at --server named a key of its own).
 */
import { describe, expect, it } from 'vitest'
import {
  createInception,
  createRevocation,
  createRotation,
  generateKeyPair,
  MAX_KEY_EVENTS,
  provenKeyState,
  replayKeyEvents,
  toB64,
  type KeyEvent,
} from '../../../node/core/index.js'

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const k3 = generateKeyPair()
const attacker = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const did = icp.did
const rot1 = createRotation(replayKeyEvents([icp]), k0, k1, 2_000, k2)
const rot2 = createRotation(replayKeyEvents([icp, rot1]), k1, k2, 3_000, k3)

/** The error `provenKeyState` throws for `events` (as untrusted JSON). */
function refusal(events: readonly unknown[], forDid = did): { code?: string; cause?: unknown } {
  try {
    provenKeyState(forDid, JSON.parse(JSON.stringify(events)) as unknown[])
  } catch (err) {
    const e = err as { code?: string; details?: { cause?: unknown } }
    return { code: e.code, cause: e.details?.cause }
  }
  throw new Error('the events were taken')
}

describe('provenKeyState: the key a DID’s own signed events prove', () => {
  it('replays inception and rotations to the current key, the keys before it and the seq', () => {
    const state = provenKeyState(did, JSON.parse(JSON.stringify([icp, rot1, rot2])) as unknown[])
    expect(state).toMatchObject({ did, seq: 2, key: toB64(k2.publicKey), revoked: null })
    expect(state.priorKeys).toEqual([toB64(k0.publicKey), toB64(k1.publicKey)])
  })

  it('a log cut short proves an earlier key: a server can hide later rotations, not name a key', () => {
    expect(provenKeyState(did, [icp, rot1]).key).toBe(toB64(k1.publicKey))
  })

  it('leaves revocations out, the controller’s too (not checkable without its key)', () => {
    const byController = createRevocation(replayKeyEvents([icp]), generateKeyPair(), 'compromised', 2_500)
    expect(provenKeyState(did, [icp, rot1, byController]).key).toBe(toB64(k1.publicKey))
  })

  it('refuses no events, and events that do not start with the inception', () => {
    expect(refusal([])).toMatchObject({ code: 'KEL_INVALID' })
    expect(refusal([rot1, rot2])).toMatchObject({ code: 'KEL_INVALID' })
  })

  it('refuses an inception of another key under the DID (the impostor’s own key)', () => {
    const forged = { ...createInception(attacker, 1_000, null), did }
    expect(refusal([forged])).toMatchObject({ code: 'KEL_INVALID', cause: 'KEY_MISMATCH' })
    // the attacker's real inception is of the attacker's DID, not this one
    expect(refusal([createInception(attacker, 1_000, null)])).toMatchObject({ code: 'KEL_INVALID' })
  })

  it('refuses a rotation to the impostor’s key: not signed by the current key, or not the key committed to', () => {
    const toAttacker = createRotation(replayKeyEvents([icp]), attacker, attacker, 2_000, null)
    expect(refusal([icp, toAttacker])).toMatchObject({ code: 'KEL_INVALID', cause: 'SIGNATURE_INVALID' })
    const uncommitted = createRotation(replayKeyEvents([icp]), k0, attacker, 2_000, null)
    expect(refusal([icp, uncommitted])).toMatchObject({ code: 'KEL_INVALID', cause: 'PRE_ROTATION_MISMATCH' })
  })

  it('refuses events out of order, twice the inception, another DID’s events and malformed ones', () => {
    expect(refusal([icp, rot2])).toMatchObject({ code: 'KEL_INVALID', cause: 'KEL_INVALID' })
    expect(refusal([icp, icp])).toMatchObject({ code: 'KEL_INVALID', cause: 'DUPLICATE' })
    const other = createInception(k3, 1_000, null)
    expect(refusal([icp, other])).toMatchObject({ code: 'KEL_INVALID' })
    expect(refusal([icp, { ...rot1, key: 'not a key' }])).toMatchObject({ code: 'KEL_INVALID', cause: 'MALFORMED' })
    expect(refusal([icp, null])).toMatchObject({ code: 'KEL_INVALID', cause: 'MALFORMED' })
  })

  it('refuses more events than a DID’s log may hold, before replaying any', () => {
    const many: KeyEvent[] = Array.from({ length: MAX_KEY_EVENTS + 2 }, () => icp)
    expect(refusal(many)).toMatchObject({ code: 'KEL_INVALID' })
  })
})
