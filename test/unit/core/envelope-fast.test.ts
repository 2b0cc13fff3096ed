import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conformingMsg } from '../../../node/core/envelope-fast.js'
import { MAX_BODY_LENGTH, msgSchema } from '../../../node/core/envelope-schema.js'
import { createMessage, generateKeyPair, didFromPublicKey, parseEnvelope } from '../../../node/core/index.js'

const key = generateKeyPair()
const from = didFromPublicKey(key.publicKey)
const to = didFromPublicKey(generateKeyPair().publicKey)
const valid = createMessage({ from, to, body: 'hello', ts: 1_764_000_000_000, nonce: new Uint8Array(16) }, key)

/** Values near each rule's edge, valid and not. */
const edge = fc.constantFrom<unknown>(
  1,
  2,
  '1',
  'msg',
  'reg',
  null,
  undefined,
  0,
  -0,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.NaN,
  '',
  from,
  from.replace('did:msig:', 'did:key:z'),
  from + 'l',
  'did:msig:' + '1'.repeat(119),
  'did:msig:' + '1'.repeat(120),
  'x'.repeat(MAX_BODY_LENGTH),
  'x'.repeat(MAX_BODY_LENGTH + 1),
  valid.nonce,
  valid.nonce.replace(/=*$/, '') + '==',
  'A'.repeat(24),
  'A'.repeat(22) + '==',
  'A'.repeat(22) + '=A',
  valid.sig,
  valid.sig.slice(0, 86) + '==',
  valid.sig.slice(0, 87) + '-',
  [],
  {},
)

const FIELDS = ['v', 'type', 'from', 'to', 'body', 'ts', 'nonce', 'sig', 'extra', '__proto__'] as const

const mutated = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(edge, fc.constant('<delete>'))), { maxLength: 3 })
  .map((changes) => {
    const m: Record<string, unknown> = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>
    for (const [field, value] of changes) {
      if (value === '<delete>') delete m[field]
      else Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true })
    }
    return m
  })

describe('conformingMsg', () => {
  it('accepts exactly what msgSchema accepts (else defers to it), with the same result', () => {
    fc.assert(
      fc.property(mutated, (input) => {
        const schema = msgSchema.safeParse(input)
        const fast = conformingMsg(input)
        if (fast !== undefined) {
          expect(schema.success).toBe(true)
          expect(fast).toEqual(schema.data)
        } else expect(schema.success).toBe(false) // a plain object the schema takes is never deferred
        // what it defers, the schema decides: parseEnvelope gives the schema's verdict either way
        if (schema.success) expect(parseEnvelope(input)).toEqual(schema.data)
        else expect(() => parseEnvelope(input)).toThrow(/^malformed envelope: /)
      }),
      { numRuns: 4000 },
    )
  })

  it('takes a signed message and its JSON copy', () => {
    expect(conformingMsg(valid)).toEqual(valid)
    expect(conformingMsg(JSON.parse(JSON.stringify(valid)))).toEqual(valid)
    expect(conformingMsg({ ...valid, to: null })).toEqual({ ...valid, to: null })
  })
})
