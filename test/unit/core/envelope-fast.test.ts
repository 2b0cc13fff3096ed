import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conformingIcp, conformingMsg, conformingReg } from '../../../node/core/envelope-fast.js'
import { icpSchema, MAX_BODY_LENGTH, msgSchema, regSchema } from '../../../node/core/envelope-schema.js'
import {
  createInception,
  createMessage,
  createRegistration,
  didFromPublicKey,
  generateKeyPair,
  parseEnvelope,
} from '../../../node/core/index.js'

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

const icp = createInception(key, 1_764_000_000_000, generateKeyPair())
const reg = createRegistration(
  {
    did: from,
    name: 'analyst',
    capabilities: [{ type: 'analysis', confidence: 0.9 }, { type: 'search' }],
    controller: to,
    peerId: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
    ts: 1_764_000_000_000,
  },
  key,
)

const keyEdges = fc.constantFrom<unknown>(
  0,
  1,
  -1,
  null,
  undefined,
  '',
  'x'.repeat(128),
  'x'.repeat(129),
  icp.key,
  icp.key.slice(0, 43) + '=',
  icp.key.slice(0, 42) + '==',
  icp.sig,
  reg.capabilities,
  [],
  [{ type: 'a' }],
  [{ type: '' }],
  [{ type: 'a b' }],
  [{ type: 'x'.repeat(65) }],
  [{ type: 'ok', confidence: 1.01 }],
  [{ type: 'ok', confidence: -0 }],
  [{ type: 'ok', confidence: Number.NaN }],
  [{ type: 'ok', confidence: undefined }],
  [{ type: 'ok', extra: 1 }],
  Array.from({ length: 65 }, () => ({ type: 'many' })),
  Array.from({ length: 64 }, () => ({ type: 'many' })),
  'icp',
  'reg',
  from,
  'did:key:z' + from.slice(9),
)

function mutate(base: object, fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .array(fc.tuple(fc.constantFrom(...fields), fc.oneof(keyEdges, edge, fc.constant('<delete>'))), { maxLength: 3 })
    .map((changes) => {
      const m = JSON.parse(JSON.stringify(base)) as Record<string, unknown>
      for (const [field, value] of changes) {
        if (value === '<delete>') delete m[field]
        else Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true })
      }
      return m
    })
}

describe('conformingMsg, conformingIcp and conformingReg, field by field', () => {
  const cases = [
    ['msg', msgSchema, conformingMsg, valid, ['v', 'type', 'from', 'to', 'body', 'ts', 'nonce', 'sig', 'extra']],
    ['icp', icpSchema, conformingIcp, icp, ['v', 'type', 'did', 'seq', 'key', 'next', 'ts', 'sig', 'extra']],
    [
      'reg',
      regSchema,
      conformingReg,
      reg,
      ['v', 'type', 'did', 'name', 'capabilities', 'controller', 'peerId', 'ts', 'sig', 'extra'],
    ],
  ] as const
  for (const [name, schema, fast, base, fields] of cases) {
    it(`${name}: accepts exactly what its schema accepts (else defers), with the same result`, () => {
      expect((fast as (i: unknown) => unknown)(base)).toEqual(base)
      // every single-field change to every edge value, then random combinations
      const values = [...fc.sample(keyEdges, { numRuns: 2000 }), ...fc.sample(edge, { numRuns: 2000 }), '<delete>']
      const singles = fields.flatMap((f) => [...new Set(values)].map((v) => [[f, v]] as [string, unknown][]))
      const apply = (changes: [string, unknown][]): Record<string, unknown> => {
        const m = JSON.parse(JSON.stringify(base)) as Record<string, unknown>
        for (const [field, value] of changes) {
          if (value === '<delete>') delete m[field]
          else Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true })
        }
        return m
      }
      const check = (input: Record<string, unknown>): void => {
        const parsed = schema.safeParse(input)
        const taken = (fast as (i: unknown) => unknown)(input)
        if (taken !== undefined) {
          expect(parsed.success, JSON.stringify(input).slice(0, 200)).toBe(true)
          expect(taken).toEqual(parsed.data)
        }
        if (parsed.success) expect(parseEnvelope(input)).toEqual(parsed.data)
        else expect(() => parseEnvelope(input)).toThrow(/^malformed envelope: /)
      }
      for (const changes of singles) check(apply(changes))
      fc.assert(
        fc.property(mutate(base, fields), (input) => {
          const parsed = schema.safeParse(input)
          const taken = (fast as (i: unknown) => unknown)(input)
          if (taken !== undefined) {
            expect(parsed.success).toBe(true)
            expect(taken).toEqual(parsed.data)
          } // deferring a valid one only costs the schema's parse (a capability with confidence: undefined)
          if (parsed.success) expect(parseEnvelope(input)).toEqual(parsed.data)
          else expect(() => parseEnvelope(input)).toThrow(/^malformed envelope: /)
        }),
        { numRuns: 4000 },
      )
    })
  }
})
