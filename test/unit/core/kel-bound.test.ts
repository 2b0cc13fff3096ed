/**
 * The bound on one DID's key log (docs/protocol.md §6): `MAX_KEY_EVENTS`
 * events, the inception included. A rotation past it is `KEY_LOG_FULL`
 * (before its signature is even checked); a revocation on top of the last
 * event is still taken.
 */
import { describe, expect, it } from 'vitest'
import {
  MAX_KEY_EVENTS,
  applyKeyEvent,
  createInception,
  createRevocation,
  createRotation,
  generateKeyPair,
  isMeshsigError,
  type KeyState,
} from '../../../node/core/index.js'

describe('a DID’s key log holds at most MAX_KEY_EVENTS events', () => {
  const keys = Array.from({ length: MAX_KEY_EVENTS + 2 }, () => generateKeyPair())
  let state: KeyState = applyKeyEvent(undefined, createInception(keys[0]!, 1, keys[1]!))
  for (let i = 1; i < MAX_KEY_EVENTS; i++) {
    state = applyKeyEvent(state, createRotation(state, keys[i - 1]!, keys[i]!, 1 + i, keys[i + 1]!))
  }

  it('takes rotations up to seq MAX_KEY_EVENTS - 1', () => {
    expect(state.seq).toBe(MAX_KEY_EVENTS - 1)
  })

  it('refuses the next rotation with KEY_LOG_FULL, naming the DID', () => {
    const last = MAX_KEY_EVENTS - 1
    const rot = createRotation(state, keys[last]!, keys[last + 1]!, 1_000, keys[last + 2]!)
    let caught: unknown
    try {
      applyKeyEvent(state, rot)
    } catch (err) {
      caught = err
    }
    expect(isMeshsigError(caught) && caught.code).toBe('KEY_LOG_FULL')
    expect(isMeshsigError(caught) && caught.details).toEqual({ did: state.did })
  })

  it('still takes a revocation on top of the last event', () => {
    const rev = createRevocation(state, keys[MAX_KEY_EVENTS - 1]!, 'retired', 2_000)
    expect(applyKeyEvent(state, rev).revoked?.reason).toBe('retired')
  })
})
