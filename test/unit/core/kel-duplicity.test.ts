import { describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRevocation,
  createRotation,
  envelopeId,
  foldStoredLog,
  generateKeyPair,
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

/** Apply `event` to `state` the way ingestion does: with the log's ids and the states before each seq. */
function apply(state: KeyState, log: readonly KeyEvent[], event: KeyEvent): string {
  try {
    applyKeyEvent(state, event, {
      controllerKeys: [controller.publicKey],
      eventIdAt: (seq) => (log[seq] ? envelopeId(log[seq]) : undefined),
      stateBefore: (seq) => (seq === 0 ? undefined : replayKeyEvents(log.slice(0, seq))),
    })
    return 'accepted'
  } catch (err) {
    return (err as { code: string }).code
  }
}

describe('a conflicting key event is duplicity only when a key the DID holds now signed it (docs/protocol.md §6)', () => {
  it('a revocation at a rotated seq, signed by the rotated-out key: old history (DUPLICATE), not duplicity', () => {
    expect(apply(afterRot, [icp, rot], createRevocation(afterIcp, k0, 'framed', 3_000))).toBe('DUPLICATE')
  })

  it('an inception again after the rotation (the inception key is rotated out): DUPLICATE', () => {
    expect(apply(afterRot, [icp, rot], createInception(k0, 1_001, k1))).toBe('DUPLICATE')
  })

  it('a fork at seq 1 that the log has moved past (seq 2): DUPLICATE where the log is at seq 2, DUPLICITY at seq 1', () => {
    const k3 = generateKeyPair()
    const rot2 = createRotation(afterRot, k1, k2, 4_000, k3)
    const fork = createRotation(afterIcp, k0, k1, 2_001, generateKeyPair())
    expect(apply(replayKeyEvents([icp, rot, rot2]), [icp, rot, rot2], fork)).toBe('DUPLICATE')
    expect(apply(afterRot, [icp, rot], fork)).toBe('DUPLICITY')
  })

  it('a revocation at a rotated seq, signed by the controller: taken (it outranks the rotation), not duplicity', () => {
    expect(apply(afterRot, [icp, rot], createRevocation(afterIcp, controller, 'late', 3_000))).toBe('accepted')
  })

  it('a second rotation revealing the committed key (signed by the key current now): duplicity', () => {
    const other = createRotation(afterIcp, k0, k1, 2_001, generateKeyPair())
    expect(apply(afterRot, [icp, rot], other)).toBe('DUPLICITY')
  })

  it('a second inception while its key is current: duplicity; a forged one: its own error', () => {
    expect(apply(afterIcp, [icp], createInception(k0, 1_001, k2))).toBe('DUPLICITY')
    expect(apply(afterIcp, [icp], { ...createInception(k0, 1_002, k2), ts: 5 })).toBe('SIGNATURE_INVALID')
  })

  it('the state before a seq, folded from the stored rows, is the replayed one; rows out of order are refused', () => {
    const rot2 = createRotation(afterRot, k1, k2, 4_000, generateKeyPair())
    const rows = [icp, rot, rot2].map((event) => ({ event, id: envelopeId(event) }))
    expect(foldStoredLog(rows)).toEqual(replayKeyEvents([icp, rot, rot2]))
    expect(foldStoredLog(rows.slice(0, 2))).toEqual(afterRot)
    expect(foldStoredLog([])).toBeUndefined()
    expect(() => foldStoredLog([rows[0]!, rows[2]!])).toThrow(/does not follow/)
  })
})
