/**
 * The key pairs built from seeds (node/services/key-cache.ts, issue 13):
 * one per seed, reused while kept, never more than the bound, the least
 * recently used dropped first, and each signs exactly as its seed does.
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair, keyPairFromSeed, toB64, verifySignature } from '../../../node/core/index.js'
import { KeyPairCache } from '../../../node/services/key-cache.js'

describe('KeyPairCache', () => {
  it('builds a seed’s key pair once and signs as the seed does', () => {
    const cache = new KeyPairCache(4)
    const key = generateKeyPair()
    const pair = cache.get(key.seed)
    expect(cache.get(Uint8Array.from(key.seed))).toBe(pair) // keyed by the bytes, not the array object
    expect(Buffer.from(pair.publicKey).equals(Buffer.from(key.publicKey))).toBe(true)
    const data = new TextEncoder().encode('hello')
    expect(verifySignature(data, pair.sign(data), key.publicKey)).toBe(true)
  })

  it('never holds more than its bound, and drops the least recently used first', () => {
    const cache = new KeyPairCache(3)
    const seeds = Array.from({ length: 5 }, () => generateKeyPair().seed)
    const first = cache.get(seeds[0]!)
    const second = cache.get(seeds[1]!)
    cache.get(seeds[2]!)
    expect(cache.get(seeds[0]!)).toBe(first) // used again: now the most recent
    cache.get(seeds[3]!) // evicts seeds[1], the least recently used
    expect(cache.size).toBe(3)
    expect(cache.get(seeds[0]!)).toBe(first)
    const again = cache.get(seeds[1]!) // rebuilt (evicting seeds[2]), the same key
    expect(again).not.toBe(second)
    expect(again.publicKey).toEqual(keyPairFromSeed(seeds[1]!).publicKey)
    for (const seed of seeds) cache.get(seed)
    expect(cache.size).toBe(3)
    cache.clear()
    expect(cache.size).toBe(0)
  })

  it('keeps a pair asked for by public key only when it matches: keys that are nobody’s displace nothing', () => {
    const cache = new KeyPairCache(2)
    const owner = generateKeyPair()
    const current = toB64(owner.publicKey)
    const pair = cache.matching(owner.seed, current)
    expect(pair?.publicKey).toEqual(owner.publicKey)
    for (let i = 0; i < 10; i++) expect(cache.matching(generateKeyPair().seed, current)).toBeUndefined()
    expect(cache.size).toBe(1)
    expect(cache.matching(owner.seed, current)).toBe(pair) // still kept: not rebuilt
    expect(cache.matching(owner.seed, toB64(generateKeyPair().publicKey))).toBeUndefined()
  })
})
