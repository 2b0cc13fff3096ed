import { generateKeyPairSync, sign as nodeSign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateKeyPair, verifySignature } from '../../../node/core/index.js'
import { forgetSigned, rememberSigned, signedHere, SIGNED_HERE_LIMIT } from '../../../node/core/signed-here.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('signatures made by this process (node/core/signed-here.ts)', () => {
  it('knows a signature the process made, only for the same key and the same bytes', () => {
    const a = generateKeyPair()
    const b = generateKeyPair()
    const sig = a.sign(bytes('hello'))
    expect(signedHere(a.publicKey, bytes('hello'), sig)).toBe(true)
    expect(signedHere(b.publicKey, bytes('hello'), sig)).toBe(false)
    expect(signedHere(a.publicKey, bytes('hellp'), sig)).toBe(false)
    const flipped = new Uint8Array(sig)
    flipped[0]! ^= 1
    expect(signedHere(a.publicKey, bytes('hello'), flipped)).toBe(false)
  })

  it('gives the verdict a full verify gives, hit or miss', () => {
    const a = generateKeyPair()
    const b = generateKeyPair()
    const sig = a.sign(bytes('msg'))
    expect(verifySignature(bytes('msg'), sig, a.publicKey)).toBe(true)
    expect(verifySignature(bytes('msg!'), sig, a.publicKey)).toBe(false)
    expect(verifySignature(bytes('msg'), sig, b.publicKey)).toBe(false)
    forgetSigned()
    expect(signedHere(a.publicKey, bytes('msg'), sig)).toBe(false)
    expect(verifySignature(bytes('msg'), sig, a.publicKey)).toBe(true) // the full verify, as for any peer's signature
  })

  it('verifies a signature made outside the process in full', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url'))
    const sig = new Uint8Array(nodeSign(null, bytes('outside'), privateKey))
    expect(signedHere(raw, bytes('outside'), sig)).toBe(false)
    expect(verifySignature(bytes('outside'), sig, raw)).toBe(true)
    expect(verifySignature(bytes('outside?'), sig, raw)).toBe(false)
  })

  it('stays bounded: the oldest signatures are forgotten first', () => {
    forgetSigned()
    const a = generateKeyPair()
    const first = a.sign(bytes('0'))
    for (let i = 1; i <= SIGNED_HERE_LIMIT; i++)
      rememberSigned(
        a.publicKey,
        bytes(String(i)),
        new Uint8Array(64).fill(i % 251).map((x, j) => (j < 4 ? (i >> (8 * j)) & 255 : x)),
      )
    expect(signedHere(a.publicKey, bytes('0'), first)).toBe(false)
    expect(verifySignature(bytes('0'), first, a.publicKey)).toBe(true)
  })
})
