// The one unchecked revocation of each DID each peer may deliver uncharged (node/services/unproven-revocations.ts,
// decision 0069): an honest peer holds one revocation of a DID, so a second one from it is a forgery.
import { describe, expect, it } from 'vitest'
import { UnprovenRevocations } from '../../../node/services/unproven-revocations.js'

describe('UnprovenRevocations', () => {
  it('admits a peer’s first revocation of a DID, and that one again; not another one of the same DID', () => {
    const memory = new UnprovenRevocations()
    expect(memory.admit('peer-a', 'did:msig:x', 'r1')).toBe(true)
    expect(memory.admit('peer-a', 'did:msig:x', 'r1')).toBe(true)
    expect(memory.admit('peer-a', 'did:msig:x', 'r2')).toBe(false)
    expect(memory.admit('peer-b', 'did:msig:x', 'r2')).toBe(true) // another peer, its own first
    expect(memory.admit('peer-a', 'did:msig:y', 'r3')).toBe(true) // another DID
    expect(memory.size).toBe(3)
  })

  it('keeps at most its bound, forgetting the oldest pair first', () => {
    const memory = new UnprovenRevocations(2)
    memory.admit('p', 'did:1', 'a')
    memory.admit('p', 'did:2', 'b')
    memory.admit('p', 'did:3', 'c')
    expect(memory.size).toBe(2)
    expect(memory.admit('p', 'did:3', 'other')).toBe(false) // kept
    expect(memory.admit('p', 'did:1', 'other')).toBe(true) // forgotten: a first again
  })
})
