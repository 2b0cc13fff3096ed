// A rotation by the committed next key outranks the DID's own revocation at the same seq (docs/protocol.md §6,
// decision 0075): a thief holding only the key the rotation retires cannot make a node that missed the rotation
// revoked for good, nor frame the owner's rotation as duplicity there. A controller's revocation still outranks
// any rotation (decision 0044).
import { describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  replacedRevocation,
  replayKeyEvents,
  type KeyEvent,
  type KeyState,
} from '../../../node/core/index.js'

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const controller = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const afterIcp = replayKeyEvents([icp])
const rot = createRotation(afterIcp, k0, k1, 2_000, k2)
const afterRot = replayKeyEvents([icp, rot])
const theft = createRevocation(afterIcp, k0, 'stolen', 3_000)

/** Apply `event` as ingestion does: the DID's own stored events are `own` (no revocation among them). */
function apply(state: KeyState, own: readonly KeyEvent[], event: KeyEvent): KeyState | string {
  try {
    return applyKeyEvent(state, event, {
      controllerKeys: [controller.publicKey],
      eventIdAt: (seq) => (seq === state.seq ? state.lastId : own[seq] ? envelopeId(own[seq]) : undefined),
      stateBefore: (seq) => (seq === 0 ? undefined : replayKeyEvents(own.slice(0, seq))),
    })
  } catch (err) {
    return (err as { code: string }).code
  }
}

const revokedByThief = apply(afterIcp, [icp], theft) as KeyState

describe('the owner’s rotation against a revocation by the key it retires', () => {
  it('revocation first: the rotation replaces it, and the state is the one of the rotation alone', () => {
    expect(revokedByThief.revoked).toMatchObject({ by: 'self' })
    const after = apply(revokedByThief, [icp], rot)
    expect(after).toEqual(afterRot)
    expect(replacedRevocation(revokedByThief, rot)).toBe(envelopeId(theft))
  })

  it('rotation first: the revocation is old history (DUPLICATE), as before (decision 0043)', () => {
    expect(apply(afterRot, [icp, rot], theft)).toBe('DUPLICATE')
  })

  it('a rotation not by the committed key, or not signed by the retired key, fails as what it is', () => {
    const wrongKey = createRotation(afterIcp, k0, generateKeyPair(), 2_001, k2)
    expect(apply(revokedByThief, [icp], wrongKey)).toBe('PRE_ROTATION_MISMATCH')
    const notByK0 = createRotation(afterIcp, generateKeyPair(), k1, 2_002, k2)
    expect(apply(revokedByThief, [icp], notByK0)).toBe('SIGNATURE_INVALID')
  })

  it('with no key committed, a rotation proves no owner: still duplicity', () => {
    const bare = createInception(k0, 1_000, null)
    const st = replayKeyEvents([bare])
    const revoked = apply(st, [bare], createRevocation(st, k0, 'stolen', 3_000)) as KeyState
    expect(apply(revoked, [bare], createRotation(st, k0, k1, 2_000, k2))).toBe('DUPLICITY')
  })

  it('a second revocation by the same key at that seq is still the DID’s duplicity', () => {
    expect(apply(revokedByThief, [icp], createRevocation(afterIcp, k0, 'again', 3_001))).toBe('DUPLICITY')
  })

  it('a revocation by the controller still outranks the rotation, whichever came first (decision 0044)', () => {
    const byController = apply(afterIcp, [icp], createRevocation(afterIcp, controller, 'ended', 3_000)) as KeyState
    expect(apply(byController, [icp], rot)).toBe('REVOKED')
    const rotatedThenRevoked = apply(afterRot, [icp, rot], createRevocation(afterIcp, controller, 'ended', 3_000))
    expect(rotatedThenRevoked).toMatchObject({ revoked: { by: 'controller' } })
  })

  it('the trade-off: whoever holds the committed next key too can replace an own-key revocation at its seq', () => {
    const revoked = apply(afterRot, [icp, rot], createRevocation(afterRot, k1, 'done', 4_000)) as KeyState
    const k3 = generateKeyPair()
    const rot2 = createRotation(afterRot, k1, k2, 4_001, k3)
    expect(apply(revoked, [icp, rot], rot2)).toMatchObject({ seq: 2, key: replayKeyEvents([icp, rot, rot2]).key })
    // past the revocation's seq nothing is taken, and the rotation it retired is known
    expect(apply(revoked, [icp, rot], createRotation(replayKeyEvents([icp, rot, rot2]), k2, k3, 4_002))).toBe('REVOKED')
    expect(apply(revoked, [icp, rot], rot)).toBe('DUPLICATE')
  })
})
