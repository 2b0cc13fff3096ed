import { describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  envelopeId,
  generateKeyPair,
  replacesRegistration,
  type KeyPair,
  type RegEnvelope,
  MAX_TS,
} from '../../../node/core/index.js'

const old = generateKeyPair()
const next = generateKeyPair()
const did = createInception(old, 1, next).did
const node = generateKeyPair()
const nodeDid = createInception(node, 1, null).did

function reg(ts: number, key: KeyPair, name = 'a'): RegEnvelope {
  return createRegistration({ did, name, capabilities: [], controller: nodeDid, peerId: 'p', ts }, key)
}
function held(r: RegEnvelope) {
  return { regId: envelopeId(r), regTs: r.ts, regEnvelope: JSON.stringify(r) }
}
const incoming = (r: RegEnvelope) => ({ id: envelopeId(r), ts: r.ts })

describe('which registration of a DID stands (docs/protocol.md §5)', () => {
  const current = () => old.publicKey

  it('under one key: a later one replaces, an earlier one and the same one do not; at one ts the lower id wins', () => {
    const r = reg(1_000, old)
    expect(replacesRegistration(held(r), incoming(reg(1_001, old)), current)).toBe(true)
    const [low, high] = [r, reg(1_000, old, 'b')].sort((x, y) => (envelopeId(x) < envelopeId(y) ? -1 : 1))
    expect(replacesRegistration(held(high!), incoming(low!), current)).toBe(true)
    expect(replacesRegistration(held(low!), incoming(high!), current)).toBe(false)
    expect(replacesRegistration(held(r), incoming(reg(999, old)), current)).toBe(false)
    expect(replacesRegistration(held(r), incoming(r), current)).toBe(false)
  })

  it('one dated far ahead by a key since rotated out gives way to an earlier one of the current key', () => {
    const pinned = reg(MAX_TS, old)
    const fresh = reg(2_000, next)
    expect(replacesRegistration(held(pinned), incoming(fresh), current)).toBe(false)
    expect(replacesRegistration(held(pinned), incoming(fresh), () => next.publicKey)).toBe(true)
  })

  it('a stored registration that does not verify under the current key counts as a rotated-out one', () => {
    const forged = { ...reg(MAX_TS, old), name: 'changed' }
    expect(replacesRegistration(held(forged), incoming(reg(2_000, old)), current)).toBe(true)
    const unreadable = { regId: 'x', regTs: MAX_TS, regEnvelope: '{' }
    expect(replacesRegistration(unreadable, incoming(reg(2_000, old)), current)).toBe(true)
  })
})
