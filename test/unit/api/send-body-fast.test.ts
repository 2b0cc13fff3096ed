/**
 * The hand-written check of a send's `fromDid` body (api/schemas.ts
 * `conformingSendBody`) never takes what the schema refuses and gives back
 * exactly what the schema would; the bodies clients send take the fast path.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conformingSendBody, sendBody } from '../../../api/schemas.js'
import { MAX_BODY_LENGTH } from '../../../node/core/envelope-schema.js'

const did = 'did:msig:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

/** Values near each rule's edge, valid and not. */
const edge = fc.constantFrom<unknown>(
  did,
  '',
  'x',
  'x'.repeat(256),
  'x'.repeat(257),
  'x'.repeat(MAX_BODY_LENGTH),
  'x'.repeat(MAX_BODY_LENGTH + 1),
  null,
  undefined,
  0,
  1,
  true,
  [],
  {},
  { type: 'msg' },
)

const FIELDS = ['fromDid', 'toDid', 'message', 'privateKey', 'envelope', 'extra', '__proto__'] as const

const bodies = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(edge, fc.constant('<delete>'))), { maxLength: 4 })
  .map((changes) => {
    const b: Record<string, unknown> = { fromDid: did, toDid: did, message: 'hello' }
    for (const [field, value] of changes) {
      if (value === '<delete>') delete b[field]
      else Object.defineProperty(b, field, { value, enumerable: true, configurable: true, writable: true })
    }
    return JSON.parse(JSON.stringify(b)) as unknown // what a client's JSON body is
  })

describe('the fast check of a send body', () => {
  it('takes only what the schema takes, and gives back what the schema gives', () => {
    fc.assert(
      fc.property(bodies, (body) => {
        const fast = conformingSendBody(body)
        if (fast === undefined) return
        const slow = sendBody.safeParse(body)
        expect(slow.success).toBe(true)
        expect(fast).toStrictEqual(slow.data)
      }),
      { numRuns: 3000 },
    )
  })

  it('takes the bodies clients send: the seed form, a broadcast, a custodied send, an empty message', () => {
    for (const body of [
      { fromDid: did, toDid: did, message: 'hi', privateKey: 'a2V5' },
      { fromDid: did, toDid: null, message: 'to everyone' },
      { fromDid: did, toDid: did, message: 'hi' },
      { fromDid: did, toDid: did, message: '' },
    ]) {
      expect(conformingSendBody(body)).toStrictEqual(sendBody.parse(body))
    }
  })

  it('leaves everything else to the schema: extra keys, a pre-signed envelope, wrong types, over-long text', () => {
    for (const body of [
      { fromDid: did, toDid: did, message: 'hi', extra: 1 },
      { envelope: { type: 'msg' } },
      { fromDid: did, message: 'hi' },
      { fromDid: did, toDid: did, message: 1 },
      { fromDid: '', toDid: did, message: 'hi' },
      { fromDid: did, toDid: did, message: 'x'.repeat(MAX_BODY_LENGTH + 1) },
      { fromDid: did, toDid: did, message: 'hi', privateKey: '' },
      [],
      null,
    ]) {
      expect(conformingSendBody(body)).toBeUndefined()
    }
  })
})
