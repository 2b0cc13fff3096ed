/**
 * Sealed messages (node/core/sealed.ts): a `msg` this process signed is
 * frozen with its signing bytes; acceptance takes the same object and the
 * same bytes, with the same verdict and id as for an equal copy from outside.
 */
import { describe, expect, it } from 'vitest'
import {
  acceptEnvelope,
  createMessage,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  parseEnvelope,
  sealSignedMsg,
  signingBytes,
  type AcceptanceContext,
} from '../../../node/core/index.js'

const key = generateKeyPair()
const from = didFromPublicKey(key.publicKey)

function ctx(now: number): AcceptanceContext {
  return {
    now,
    maxSkewMs: 300_000,
    keyState: () => undefined,
    controllerOf: () => undefined,
    nonceSeen: () => false,
    hasEnvelope: () => false,
    eventIdAt: () => undefined,
  }
}

describe('a sealed message', () => {
  it('is frozen, parses to itself, and gives acceptance its signing bytes, verdict and id', () => {
    const ts = 1_764_000_000_000
    const signed = createMessage({ from, to: null, body: 'hello', ts, nonce: new Uint8Array(16).fill(3) }, key)
    const copy = JSON.parse(JSON.stringify(signed)) as typeof signed
    const bytes = signingBytes(signed)
    const sealed = sealSignedMsg({ ...signed }, bytes)
    expect(Object.isFrozen(sealed)).toBe(true)
    expect(() => {
      ;(sealed as { body: string }).body = 'changed'
    }).toThrow(TypeError)
    expect(parseEnvelope(sealed)).toBe(sealed) // its own typed copy
    expect(parseEnvelope(copy)).not.toBe(copy) // input from outside is copied
    expect(signingBytes(sealed)).toBe(bytes)
    const a = acceptEnvelope(sealed, ctx(ts), { fresh: true })
    const b = acceptEnvelope(copy, ctx(ts), { fresh: true })
    expect(a.ok && b.ok).toBe(true)
    expect(a.ok && a.id).toBe(envelopeId(copy))
    expect(b.ok && b.id).toBe(envelopeId(copy))
  })

  it('signed by another key is refused exactly as its copy is', () => {
    const ts = 1_764_000_000_000
    const other = generateKeyPair()
    const forged = createMessage({ from, to: null, body: 'x', ts, nonce: new Uint8Array(16).fill(4) }, other)
    const sealed = sealSignedMsg({ ...forged }, signingBytes(forged))
    const a = acceptEnvelope(sealed, ctx(ts), { fresh: true })
    const b = acceptEnvelope(JSON.parse(JSON.stringify(forged)), ctx(ts), { fresh: true })
    expect(a.ok).toBe(false)
    expect(!a.ok && a.error.code).toBe(!b.ok && b.error.code)
  })
})
