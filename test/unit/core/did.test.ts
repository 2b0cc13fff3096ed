import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey as libp2pPeerId, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DID_KEY_PREFIX,
  DID_MSIG_PREFIX,
  didFromPublicKey,
  didKeyFromPublicKey,
  fromB64,
  isDid,
  peerIdFromPublicKey,
  publicKeyFromDid,
  publicKeyFromIdentifier,
  publicKeyFromPeerId,
  toB58,
  toB64,
  toMsigDid,
  type MeshsigError,
} from '../../../node/index.js'

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const B58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
// RFC 8032 TEST 1 public key
const TEST1_PK = new Uint8Array(Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex'))

function errorOf(fn: () => unknown): MeshsigError | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return err as MeshsigError
  }
}

describe('did:msig and did:key', () => {
  it('round-trip any 32-byte key through did:msig, did:key and b64', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const did = didFromPublicKey(key)
        const didKey = didKeyFromPublicKey(key)
        expect(did.startsWith(DID_MSIG_PREFIX)).toBe(true)
        expect(didKey.startsWith(DID_KEY_PREFIX + 'z')).toBe(true)
        expect(publicKeyFromDid(did)).toEqual(key)
        expect(publicKeyFromDid(didKey)).toEqual(key)
        expect(publicKeyFromIdentifier(toB64(key))).toEqual(key)
        expect(toMsigDid(didKey)).toBe(did)
        expect(toMsigDid(toB64(key))).toBe(did)
        expect(toMsigDid(did)).toBe(did)
      }),
    )
  })

  it('did:key of an Ed25519 key starts z6Mk (multicodec 0xed01)', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        expect(didKeyFromPublicKey(key).startsWith('did:key:z6Mk')).toBe(true)
      }),
    )
    expect(didFromPublicKey(TEST1_PK)).toBe(DID_MSIG_PREFIX + toB58(TEST1_PK))
  })

  it('refuses a did:msig of the wrong length, naming the byte counts', () => {
    for (const n of [0, 1, 31, 33, 64]) {
      const did = DID_MSIG_PREFIX + (n === 0 ? '' : toB58(new Uint8Array(n).fill(7)))
      const err = errorOf(() => publicKeyFromDid(did))
      expect(err?.code).toBe('INVALID_DID')
      expect(err?.name).toBe('InvalidDidError')
      expect(err?.message).toMatch(n === 0 ? /no key part/ : /32 bytes/)
    }
  })

  it('refuses characters outside the base58btc alphabet (0, O, I, l, +, /)', () => {
    const did = didFromPublicKey(TEST1_PK)
    for (const bad of ['0', 'O', 'I', 'l', '+', '/']) {
      const broken = did.slice(0, -3) + bad + did.slice(-2)
      const err = errorOf(() => publicKeyFromDid(broken))
      expect(err?.code).toBe('INVALID_DID')
      expect(err?.message).toMatch(/base58btc/)
      expect(isDid(broken)).toBe(false)
    }
    expect(B58_ALPHABET).not.toMatch(/[0OIl]/)
  })

  it('refuses other DID methods and malformed did:key', () => {
    const cases: Array<[string, RegExp]> = [
      ['did:web:example.com', /not a did:msig or did:key/],
      ['did:MSIG:' + toB58(TEST1_PK), /not a did:msig or did:key/],
      ['msig:' + toB58(TEST1_PK), /not a did:msig or did:key/],
      ['did:key:' + toB58(TEST1_PK), /multibase base58btc/],
      ['did:key:z' + toB58(Uint8Array.from([0xe7, 0x01, ...TEST1_PK])), /not an Ed25519 key/],
      ['did:key:z' + toB58(Uint8Array.from([0xed, 0x01, ...TEST1_PK, 0])), /32-byte key/],
    ]
    for (const [did, message] of cases) {
      const err = errorOf(() => publicKeyFromDid(did))
      expect(err?.code, did).toBe('INVALID_DID')
      expect(err?.message, did).toMatch(message)
    }
  })

  it('refuses a raw key that is not base64 of 32 bytes with INVALID_KEY', () => {
    for (const text of ['', 'hello', toB64(new Uint8Array(31)), toB64(new Uint8Array(33)), toB64(TEST1_PK) + ' ']) {
      expect(errorOf(() => publicKeyFromIdentifier(text))?.code).toBe('INVALID_KEY')
    }
  })
})

describe('PeerId', () => {
  it('equals libp2p peerIdFromPublicKey(publicKeyFromRaw(key)) for any key', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const ours = peerIdFromPublicKey(key)
        expect(ours).toBe(libp2pPeerId(publicKeyFromRaw(key)).toString())
        expect(ours.startsWith('12D3KooW')).toBe(true)
        expect(publicKeyFromPeerId(ours)).toEqual(key)
        expect(peerIdFromString(ours).publicKey?.raw).toEqual(key)
      }),
      { numRuns: 50 },
    )
  })

  it('refuses a PeerId without an inline Ed25519 key', () => {
    expect(errorOf(() => publicKeyFromPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'))?.code).toBe(
      'INVALID_KEY',
    )
    expect(errorOf(() => publicKeyFromPeerId('not0a0peer'))?.code).toBe('INVALID_KEY')
  })
})

describe('strict base64', () => {
  it('refuses non-canonical spellings (padding bits set), so a signature has one text', () => {
    const sig = new Uint8Array(64).fill(7)
    const text = toB64(sig)
    const respelt = text.slice(0, 85) + 'x=='
    expect(Buffer.from(respelt, 'base64')).toEqual(Buffer.from(sig))
    expect(fromB64(text, 'sig', 64)).toEqual(sig)
    expect(errorOf(() => fromB64(respelt, 'sig', 64))?.code).toBe('MALFORMED')
  })
})
