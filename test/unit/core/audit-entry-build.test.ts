import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AUDIT_KINDS, checkAuditEntry, createAuditEntry, type AuditEntryInit } from '../../../node/core/audit-entry.js'
import { MalformedError } from '../../../node/core/errors.js'

const DID = 'did:msig:7Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'

/** Fields near the schema's edges: valid values, and values each rule refuses. */
const init = fc.record({
  index: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN)),
  ts: fc.oneof(fc.nat(), fc.constantFrom(-5, 0.25, Infinity)),
  kind: fc.oneof(fc.constantFrom(...AUDIT_KINDS), fc.constantFrom('nope', 'constructor', 'toString', '')),
  subject: fc.oneof(
    fc.constant(null),
    fc.constantFrom(
      DID,
      'did:key:z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP',
      'did:web:x',
      DID + '0'.repeat(120),
      '',
    ),
  ),
  envelopeId: fc.oneof(fc.constant(null), fc.constantFrom('0f'.repeat(32), 'F0'.repeat(32), '0f'.repeat(31), 'x')),
  code: fc.oneof(fc.constant(null), fc.constantFrom('REPLAY', 'A', 'lower', '9X', 'X'.repeat(65), 'X'.repeat(64))),
  data: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })),
    fc.constantFrom<unknown>(
      { nested: { seed: 1 } },
      { list: [{ privateKey: 'x' }] },
      { n: Number.NaN },
      { u: undefined },
      { big: 'x'.repeat(9000) },
      [1, 2],
      'text',
      null,
    ),
  ),
})

describe('createAuditEntry', () => {
  it('gives the schema check’s verdict on every input, and the same entry', () => {
    fc.assert(
      fc.property(init, (f) => {
        const { index, ...fields } = f
        const schema = checkAuditEntry({ ...fields, index })
        let built: unknown
        let error: unknown
        try {
          built = createAuditEntry(index, fields as unknown as AuditEntryInit)
        } catch (err) {
          error = err
        }
        if (schema.ok) expect(built).toEqual(schema.entry)
        else {
          expect(error).toBeInstanceOf(MalformedError)
          expect((error as MalformedError).message).toMatch(/^malformed audit entry: /)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('names the field that breaks the schema', () => {
    const ok: AuditEntryInit = { ts: 1, kind: 'handshake', subject: DID, envelopeId: null, code: null, data: {} }
    expect(() => createAuditEntry(0, { ...ok, data: { deep: { password: 'p' } } })).toThrow(
      /data: must not hold key material/,
    )
    expect(() => createAuditEntry(0, { ...ok, subject: 'did:web:example.com' })).toThrow(/subject/)
    expect(() => createAuditEntry(-1, ok)).toThrow(/index/)
  })
})
