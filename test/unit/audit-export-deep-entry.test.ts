/**
 * An entry whose `data` nests deeper than any entry the node writes
 * (`MAX_AUDIT_DATA_DEPTH`, the bound `createAuditEntry` keeps) is a malformed
 * entry of the verdict, named by its position, in both forms: a few KB of
 * brackets must not overflow the verifier's stack and leave the auditor with
 * no verdict at all (docs/audit.md: everything else is a problem in the
 * verdict).
 */
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  checkAuditEntry,
  createAuditEntry,
  MAX_AUDIT_DATA_DEPTH,
  type AuditEntryInit,
} from '../../node/core/audit-entry.js'
import { checkNdjsonLines, ndjsonLines, syntheticExport } from '../helpers/synthetic-export.js'

type JsonValue = AuditEntryInit['data'][string]

const T0 = Date.now() - 60_000
const peerJoined = { ts: T0, kind: 'peer.joined' as const, subject: null, envelopeId: null, code: null }

/** `{"a":{"a":…1…}}`, `depth` objects deep. */
function nested(depth: number): JsonValue {
  return JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as JsonValue
}

/** A signed export of one entry, then that entry's data given a member nested `depth` deep (after signing). */
function deepExport(depth: number) {
  const b = syntheticExport([{ ...peerJoined, data: { peerId: 'x' } }], {}, undefined, T0 + 1000)
  const entry = { ...b.doc.entries[0]!, data: { deep: nested(depth), peerId: 'x' } }
  return { b, doc: { ...b.doc, entries: [entry] } }
}

describe('an entry whose data nests 3 000 deep', () => {
  it('JSON: a verdict naming the entry at position 0 as malformed, not a RangeError', () => {
    const { doc } = deepExport(3000)
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    const malformed = check.log.problems.filter((p) => p.kind === 'malformed')
    expect(malformed).toHaveLength(1)
    expect(malformed[0]).toMatchObject({ position: 0 })
    expect(malformed[0]!.message).toMatch(/entry at position 0: data: nests deeper than/)
  })

  it('NDJSON: the same', () => {
    const { b, doc } = deepExport(3000)
    const lines = ndjsonLines(b)
    const entryLine = lines.findIndex((l) => l.startsWith('{"type":"entry"'))
    lines[entryLine] = JSON.stringify({ type: 'entry', leaf: b.doc.leafHashes[0], entry: doc.entries[0] })
    const check = checkNdjsonLines(lines)
    expect(check.ok).toBe(false)
    const malformed = check.log.problems.filter((p) => p.kind === 'malformed')
    expect(malformed.map((p) => p.message)).toEqual([expect.stringMatching(/entry at position 0: data: nests deeper/)])
  })
})

describe('the depth bound of an entry’s data', () => {
  it('is the same for the schema check and for the entries the node builds', () => {
    // data itself is level 0: an object `depth` levels below it
    const at = (depth: number) => ({ index: 0, ...peerJoined, data: { d: nested(depth) } })
    expect(checkAuditEntry(at(MAX_AUDIT_DATA_DEPTH)).ok).toBe(true)
    expect(() => createAuditEntry(0, at(MAX_AUDIT_DATA_DEPTH))).not.toThrow()
    expect(checkAuditEntry(at(MAX_AUDIT_DATA_DEPTH + 1))).toMatchObject({ ok: false, field: 'data' })
    expect(() => createAuditEntry(0, at(MAX_AUDIT_DATA_DEPTH + 1))).toThrow(/data/)
  })

  it('holds on arrays and on data 100 000 deep', () => {
    const arrays = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as JsonValue
    expect(checkAuditEntry({ index: 0, ...peerJoined, data: { d: arrays } })).toMatchObject({
      ok: false,
      field: 'data',
    })
    expect(checkAuditEntry({ index: 0, ...peerJoined, data: { d: nested(100_000) } }).ok).toBe(false)
  })
})
