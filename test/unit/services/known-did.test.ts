import { describe, expect, it } from 'vitest'
import { didKeyFromPublicKey, generateKeyPair, toB64, toMsigDid } from '../../../node/core/index.js'
import { knownDid, recordableDid, withKnownDids, type KnownDidStore } from '../../../node/services/known-did.js'

const knownKey = generateKeyPair()
const knownMsig = toMsigDid(toB64(knownKey.publicKey))
const store = {
  keyEvents: { state: (did: string) => (did === knownMsig ? ({} as never) : undefined) },
  agents: { get: () => undefined },
} as unknown as KnownDidStore

describe('a bare key names a DID only when the node knows it (docs/protocol.md §1)', () => {
  const seed = toB64(generateKeyPair().seed)

  it('did:msig and did:key spellings pass whoever they name; a bare key of a known DID too', () => {
    const other = generateKeyPair().publicKey
    expect(knownDid(store, toMsigDid(toB64(other)), 'toDid')).toBe(toMsigDid(toB64(other)))
    expect(knownDid(store, didKeyFromPublicKey(other), 'toDid')).toBe(toMsigDid(toB64(other)))
    expect(knownDid(store, toB64(knownKey.publicKey), 'toDid')).toBe(knownMsig)
  })

  it('a bare key naming no known DID (a private key looks the same) is INVALID_DID, and not repeated', () => {
    let error: unknown
    try {
      knownDid(store, seed, 'toDid')
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'INVALID_DID', details: { field: 'toDid' } })
    expect(String((error as Error).message)).not.toContain(seed)
    expect(() => withKnownDids(store, { fromDid: knownMsig, toDid: seed }, ['fromDid', 'toDid'])).toThrow()
  })

  it('a refusal records such a subject as null, and a DID as itself', () => {
    expect(recordableDid(store, seed)).toBeNull()
    expect(recordableDid(store, 'not a did')).toBeNull()
    expect(recordableDid(store, knownMsig)).toBe(knownMsig)
  })
})
