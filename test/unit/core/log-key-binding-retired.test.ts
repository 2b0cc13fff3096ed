/**
 * `boundByRetiredKey` (decision 0084): a held binding gives way to a new log
 * key of its DID at once only when a key the DID rotated away from signed it,
 * not its current key, not a key the DID never had, and not for a revoked DID.
 */
import { describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, toB64, type KeyPair } from '../../../node/core/index.js'
import { boundByRetiredKey, createLogKeyBinding } from '../../../node/core/log-key-binding.js'

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const did = didFromPublicKey(k0.publicKey)
const bound = (by: KeyPair) => createLogKeyBinding(did, generateKeyPair().publicKey, generateKeyPair().publicKey, 1, by)
const rotated = { key: toB64(k1.publicKey), priorKeys: [toB64(k0.publicKey)], revoked: null }

describe('boundByRetiredKey', () => {
  it('is true for a binding a prior key signed, false for one the current key signed', () => {
    expect(boundByRetiredKey(bound(k0), rotated)).toBe(true)
    expect(boundByRetiredKey(bound(k1), rotated)).toBe(false)
  })

  it('is false for a key the DID never had, without a key state, and for a revoked DID', () => {
    expect(boundByRetiredKey(bound(generateKeyPair()), rotated)).toBe(false)
    expect(boundByRetiredKey(bound(k0), undefined)).toBe(false)
    const revoked = { ...rotated, revoked: { reason: 'leaked', ts: 2, by: 'self' as const } }
    expect(boundByRetiredKey(bound(k0), revoked)).toBe(false)
  })
})
