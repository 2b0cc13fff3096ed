import * as ed from '@noble/ed25519'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyPairFromSeed, sign, toB64, verify, verifySignature } from '../../../node/index.js'

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const messageArb = fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 512 }))

function bytesOf(message: string | Uint8Array): Uint8Array {
  return typeof message === 'string' ? new TextEncoder().encode(message) : message
}

describe('cross-check with @noble/ed25519 (an independent RFC 8032 implementation)', () => {
  it('derives the same public key from a seed', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, async (seed) => {
        expect(toB64(keyPairFromSeed(seed).publicKey)).toBe(toB64(await ed.getPublicKeyAsync(seed)))
      }),
      { numRuns: 100 },
    )
  })

  it('our signatures verify in noble (a 0xFF first byte, an envelope signing input, is refused)', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, messageArb, async (seed, message) => {
        const key = keyPairFromSeed(seed)
        if (bytesOf(message)[0] === 0xff) {
          // docs/protocol.md §4: plain signatures never sign what could be an envelope's signing input
          await expect(sign(message, toB64(seed))).rejects.toMatchObject({ code: 'SIGNING_REFUSED' })
          return
        }
        const signature = Buffer.from(await sign(message, toB64(seed)), 'base64')
        expect(await ed.verifyAsync(signature, bytesOf(message), key.publicKey)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it("noble's signatures verify here (plain verify and the core primitive)", async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, messageArb, async (seed, message) => {
        const publicKey = await ed.getPublicKeyAsync(seed)
        const signature = await ed.signAsync(bytesOf(message), seed)
        expect(await verify(message, toB64(signature), toB64(publicKey))).toBe(true)
        expect(verifySignature(bytesOf(message), signature, publicKey)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it('Ed25519 is deterministic: both produce identical signatures', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, fc.uint8Array({ maxLength: 256 }), async (seed, message) => {
        const ours = keyPairFromSeed(seed).sign(message)
        expect(toB64(ours)).toBe(toB64(await ed.signAsync(message, seed)))
      }),
      { numRuns: 50 },
    )
  })
})
