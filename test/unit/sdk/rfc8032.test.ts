import { describe, expect, it } from 'vitest'
import { didFromPublicKey, keyPairFromSeed, sign, toB64, verify } from '../../../node/index.js'
import { RFC8032_VECTORS, hex, hexToB64, utf8Message } from './rfc8032-vectors.js'

describe('RFC 8032 §7.1 vectors through the SDK', () => {
  for (const v of RFC8032_VECTORS) {
    it(`${v.name}: derives the public key and reproduces the signature byte for byte`, async () => {
      const key = keyPairFromSeed(hex(v.secretKey))
      expect(toB64(key.publicKey)).toBe(hexToB64(v.publicKey))
      expect(await sign(hex(v.message), hexToB64(v.secretKey))).toBe(hexToB64(v.signature))
    })

    it(`${v.name}: verifies under the b64 key, the did:msig and a string message when UTF-8`, async () => {
      const pk = hexToB64(v.publicKey)
      const did = didFromPublicKey(hex(v.publicKey))
      expect(await verify(hex(v.message), hexToB64(v.signature), pk)).toBe(true)
      expect(await verify(hex(v.message), hexToB64(v.signature), did)).toBe(true)
      const text = utf8Message(v)
      if (text !== undefined) {
        expect(await sign(text, hexToB64(v.secretKey))).toBe(hexToB64(v.signature))
        expect(await verify(text, hexToB64(v.signature), pk)).toBe(true)
      }
    })

    it(`${v.name}: a flipped signature bit or another message does not verify`, async () => {
      const sig = hex(v.signature)
      sig[7] = (sig[7] ?? 0) ^ 0x01
      expect(await verify(hex(v.message), toB64(sig), hexToB64(v.publicKey))).toBe(false)
      expect(await verify(hex(v.message + '00'), hexToB64(v.signature), hexToB64(v.publicKey))).toBe(false)
    })
  }

  it('TEST 3 is not valid UTF-8, so it only goes through as bytes', () => {
    const test3 = RFC8032_VECTORS[2]
    expect(test3 && utf8Message(test3)).toBeUndefined()
  })
})
