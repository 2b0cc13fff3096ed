import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  acceptEnvelope,
  canonicalize,
  decodeEnvelope,
  encodeEnvelope,
  envelopeId,
  fromB64,
  parseEnvelope,
  signingBytes,
  toB64,
  verifyEnvelopeSignature,
  verifySignature,
  type AcceptanceContext,
  type Envelope,
} from '../../../node/index.js'
import { signedCase } from './envelope-arbitraries.js'

const RUNS = { numRuns: 150 }

const emptyContext: AcceptanceContext = {
  now: 0,
  maxSkewMs: 0,
  keyState: () => undefined,
  controllerOf: () => undefined,
  nonceSeen: () => false,
  hasEnvelope: () => false,
  eventIdAt: () => undefined,
}

/** True when the input is refused: parsing fails or the signature does not verify under `key`. */
function refused(input: unknown, key: Uint8Array): boolean {
  let viaKey: boolean
  try {
    verifyEnvelopeSignature(parseEnvelope(input), key)
    viaKey = false
  } catch {
    viaKey = true
  }
  const viaRules = !acceptEnvelope(input, emptyContext, { fresh: false }).ok
  return viaKey && viaRules
}

/** True when both values have the same JCS text; a value JCS refuses (1e999 → Infinity) is never the same. */
function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b)
  } catch {
    return false
  }
}

function flipUtf8Byte(text: string, index: number, mask: number): string {
  const bytes = Buffer.from(text, 'utf8')
  const i = index % bytes.length
  bytes[i] = (bytes[i] ?? 0) ^ mask
  return bytes.toString('utf8')
}

describe('envelope properties', () => {
  it('any envelope round-trips through encode/decode, keeps its id and verifies', () => {
    fc.assert(
      fc.property(signedCase, ({ envelope, signerKey }) => {
        const decoded = decodeEnvelope(encodeEnvelope(envelope))
        expect(decoded).toEqual(envelope)
        expect(envelopeId(decoded)).toBe(envelopeId(envelope))
        verifyEnvelopeSignature(decoded, signerKey)
        expect(acceptEnvelope(JSON.parse(JSON.stringify(envelope)), emptyContext, { fresh: false }).ok).toBe(true)
      }),
      RUNS,
    )
  })

  it('flipping any byte of any field value never yields a valid envelope', () => {
    const mutation = fc.record({ field: fc.nat(), index: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) })
    fc.assert(
      fc.property(signedCase, mutation, ({ envelope, signerKey }, { field, index, mask }) => {
        const fields = Object.keys(envelope)
        const name = fields[field % fields.length] ?? 'sig'
        const json = JSON.parse(JSON.stringify(envelope)) as Record<string, unknown>
        const valueText = JSON.stringify(json[name])
        const mutatedText = flipUtf8Byte(valueText, index, mask)
        let mutated: unknown
        try {
          mutated = JSON.parse(mutatedText)
        } catch {
          return // the flipped value is not even JSON: refused at the door
        }
        fc.pre(!sameJson(mutated, json[name]))
        expect(refused({ ...json, [name]: mutated }, signerKey)).toBe(true)
      }),
      { numRuns: 400 },
    )
  })

  it('flipping any bit of the signature bytes, or any character of its text, never verifies', () => {
    const where = fc.record({ index: fc.nat({ max: 63 }), bit: fc.nat({ max: 7 }), pos: fc.nat({ max: 87 }) })
    fc.assert(
      fc.property(signedCase, where, ({ envelope, signerKey }, { index, bit, pos }) => {
        const sig = fromB64(envelope.sig, 'sig', 64)
        sig[index] = (sig[index] ?? 0) ^ (1 << bit)
        expect(refused({ ...envelope, sig: toB64(sig) }, signerKey)).toBe(true)
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
        const old = envelope.sig[pos] ?? 'A'
        const replacement = alphabet[(alphabet.indexOf(old) + 1 + index) % alphabet.length] ?? 'B'
        const text = envelope.sig.slice(0, pos) + replacement + envelope.sig.slice(pos + 1)
        if (text !== envelope.sig) expect(refused({ ...envelope, sig: text }, signerKey)).toBe(true)
      }),
      RUNS,
    )
  })

  it('re-ordering the keys of the JSON sent yields the same envelope, id and signature check', () => {
    fc.assert(
      fc.property(
        signedCase.chain((c) =>
          fc.tuple(
            fc.constant(c),
            fc.shuffledSubarray(Object.keys(c.envelope), { minLength: Object.keys(c.envelope).length }),
          ),
        ),
        ([{ envelope, signerKey }, order]) => {
          const record = envelope as Record<string, unknown>
          const text = '{' + order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(record[k])}`).join(',') + '}'
          const decoded = decodeEnvelope(text)
          expect(decoded).toEqual(envelope)
          expect(envelopeId(decoded)).toBe(envelopeId(envelope))
          expect(signingBytes(decoded)).toEqual(signingBytes(envelope))
          verifyEnvelopeSignature(decoded, signerKey)
        },
      ),
      RUNS,
    )
  })

  it('a signature made for one type never verifies as another type', () => {
    const types: Envelope['type'][] = ['msg', 'reg', 'icp', 'rot', 'rev', 'chk']
    fc.assert(
      fc.property(signedCase, fc.constantFrom(...types), ({ envelope, signerKey }, other) => {
        fc.pre(other !== envelope.type)
        const relabelled = { ...envelope, type: other }
        expect(refused(relabelled, signerKey)).toBe(true)
        // Below the schema too: the domain prefix and the type field change the signed bytes.
        const bytes = signingBytes(relabelled as unknown as Envelope)
        expect(verifySignature(bytes, fromB64(envelope.sig, 'sig', 64), signerKey)).toBe(false)
      }),
      RUNS,
    )
  })
})
