import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '../../node/core/index.js'
import { privateKeyFromSeed } from '../../node/p2p/libp2p-config.js'

describe('libp2p keys with cached KeyObjects', () => {
  it('sign exactly as libp2p does, and verify the same verdicts', async () => {
    const seed = generateKeyPair().seed
    const fast = await privateKeyFromSeed(seed)
    const reference = await generateKeyPairFromSeed('Ed25519', seed)
    for (const text of ['', 'gossip', 'x'.repeat(5000)]) {
      const msg = new TextEncoder().encode(text)
      const sig = await fast.sign(msg)
      expect(Buffer.from(sig)).toEqual(Buffer.from(await reference.sign(msg)))
      const pub = publicKeyFromRaw(fast.publicKey.raw)
      expect(await pub.verify(msg, sig)).toBe(true)
      const flipped = Uint8Array.from(sig)
      flipped[0]! ^= 1
      expect(await pub.verify(msg, flipped)).toBe(false)
      expect(await pub.verify(new TextEncoder().encode(text + '!'), sig)).toBe(false)
      expect(await publicKeyFromRaw(generateKeyPair().publicKey).verify(msg, sig)).toBe(false)
    }
  })
})
