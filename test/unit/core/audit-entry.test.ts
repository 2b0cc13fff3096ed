import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  AUDIT_KIND_DOCS,
  AUDIT_KINDS,
  auditEntryBytes,
  checkAuditEntry,
  createAuditEntry,
  leafHashOfEntry,
  MAX_AUDIT_DATA_LENGTH,
  parseAuditEntry,
  type AuditEntry,
} from '../../../node/core/audit-entry.js'
import { MalformedError } from '../../../node/core/errors.js'

const DID = 'did:msig:7Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

const sample: AuditEntry = createAuditEntry(7, {
  ts: 1_764_000_000_000,
  kind: 'envelope.rejected',
  subject: DID,
  envelopeId: '0f'.repeat(32),
  code: 'REPLAY',
  data: { type: 'msg', via: 'gossip', attributableTo: DID, note: 'é☃' },
})

describe('audit entry kinds', () => {
  it('lists and documents every kind of the issue', () => {
    const wanted = [
      'envelope.accepted',
      'envelope.rejected',
      'agent.registered',
      'key.rotated',
      'agent.revoked',
      'duplicity',
      'handshake',
      'proxy.request',
      'api.refused',
      'checkpoint.inconsistent',
      'peer.joined',
      'peer.left',
      'receipt.issued',
      'receipt.accepted',
      'receipt.rejected',
      'delivery.refused',
      'delivery.expired',
      'checkpoint',
    ]
    expect([...AUDIT_KINDS].sort()).toEqual(wanted.sort())
    for (const kind of AUDIT_KINDS) expect(AUDIT_KIND_DOCS[kind].length).toBeGreaterThan(20)
  })
})

describe('leafHashOfEntry', () => {
  it('is SHA-256(0x00 || UTF-8(JCS(entry))), pinned to a fixed vector', () => {
    const jcs =
      '{"code":"REPLAY","data":{"attributableTo":"' +
      DID +
      '","note":"é☃","type":"msg","via":"gossip"},"envelopeId":"' +
      '0f'.repeat(32) +
      '","index":7,"kind":"envelope.rejected","subject":"' +
      DID +
      '","ts":1764000000000}'
    expect(Buffer.from(auditEntryBytes(sample)).toString('utf8')).toBe(jcs)
    const independent = createHash('sha256').update(Uint8Array.of(0)).update(jcs, 'utf8').digest('hex')
    expect(hex(leafHashOfEntry(sample))).toBe(independent)
    // Computed once with Python's hashlib over the same bytes.
    expect(hex(leafHashOfEntry(sample))).toBe('e95a7a92ce4380824af141fbb5e46336142b8a7eb24c617000ef8f4e9da5e55a')
  })

  it('does not depend on key order, and changes with any field, the index included', () => {
    const keys = Object.keys(sample).reverse() as (keyof AuditEntry)[]
    const reordered = Object.fromEntries(keys.map((k) => [k, sample[k]])) as AuditEntry
    expect(Object.keys(reordered)[0]).toBe('data')
    expect(hex(leafHashOfEntry(reordered))).toBe(hex(leafHashOfEntry(sample)))
    const variants: AuditEntry[] = [
      { ...sample, index: 8 },
      { ...sample, ts: sample.ts + 1 },
      { ...sample, code: 'CLOCK_SKEW' },
      { ...sample, subject: null },
      { ...sample, data: { ...sample.data, note: 'e' } },
    ]
    for (const v of variants) expect(hex(leafHashOfEntry(v))).not.toBe(hex(leafHashOfEntry(sample)))
  })
})

describe('audit entry schema', () => {
  const bad: [string, unknown][] = [
    ['an unknown field', { ...sample, prev: 'x' }],
    ['a missing field', { ...sample, code: undefined }],
    ['a negative index', { ...sample, index: -1 }],
    ['a fractional ts', { ...sample, ts: 1.5 }],
    ['an unknown kind', { ...sample, kind: 'envelope.lost' }],
    ['a subject that is no DID', { ...sample, subject: 'alice' }],
    ['an envelope id in upper case', { ...sample, envelopeId: '0F'.repeat(32) }],
    ['a code in lower case', { ...sample, code: 'replay' }],
    ['data that is a list', { ...sample, data: [] }],
    ['a private key in data', { ...sample, data: { privateKey: 'AAAA' } }],
    ['a seed deep in data', { ...sample, data: { agent: { keys: [{ seed: 'AAAA' }] } } }],
    ['a secret in data', { ...sample, data: { client_secret: 1, secret: 2 } }],
    ['oversized data', { ...sample, data: { note: 'x'.repeat(MAX_AUDIT_DATA_LENGTH) } }],
    ['no object', 'entry'],
  ]

  it.each(bad)('refuses %s', (_what, input) => {
    expect(checkAuditEntry(input).ok).toBe(false)
    expect(() => parseAuditEntry(input)).toThrow(MalformedError)
  })

  it('names the offending field', () => {
    const checked = checkAuditEntry({ ...sample, data: { nested: { password: 'x' } } })
    expect(checked).toMatchObject({ ok: false, field: 'data' })
    expect(checked.ok ? '' : checked.message).toMatch(/key material.*password/)
    try {
      parseAuditEntry({ ...sample, envelopeId: 'nope' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(MalformedError)
      expect((err as MalformedError).details).toEqual({ field: 'envelopeId' })
    }
  })

  it('accepts public keys, nulls and nested JSON in data', () => {
    const entry = createAuditEntry(0, {
      ts: 0,
      kind: 'key.rotated',
      subject: DID,
      envelopeId: null,
      code: null,
      data: { seq: 1, key: 'A'.repeat(43) + '=', extra: { list: [1, 'two', null, true] } },
    })
    expect(entry.index).toBe(0)
    expect(parseAuditEntry(JSON.parse(JSON.stringify(entry)))).toEqual(entry)
  })
})
