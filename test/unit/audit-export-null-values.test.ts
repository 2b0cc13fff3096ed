// Attack review 125, L2: a null where an export holds an object is a problem of the verdict, never a
// TypeError (INTERNAL, no verdict); docs/audit.md "What verify checks", decision 0089.
/**
 * Review 125: `null`s in an export stopped `meshsig audit verify` with
 * code INTERNAL (exit 1) and no verdict, in either form:
 * - a message's `"verification": null` (checkMessage read v.publicKey),
 * - `"summary": null` (JSON top level or the NDJSON end line: checkSummary
 *   returned only for undefined),
 * - a `null` in `witnesses` (audit-note.ts exportKeys: its catch read
 *   w.did again),
 * - an entry whose `data` is null (`typeof null === 'object'` let it into
 *   the trust replay and VerificationTracker, which destructure it),
 * - an NDJSON `{"type":"message","message":null}` right after an acceptance
 *   entry (NdjsonExportCheck#message read m.id before checkMessage).
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { checkAuditNote } from '../../node/core/audit-note.js'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair, type AuditEntry } from '../../node/core/index.js'
import {
  checkNdjsonLines,
  ndjsonLines,
  onePeerJoinedExport,
  syntheticExport,
  trustRowsOf,
} from '../helpers/synthetic-export.js'

function exported() {
  const T0 = Date.now() - 60_000
  const x = generateKeyPair()
  const y = generateKeyPair()
  const [xDid, yDid] = [didFromPublicKey(x.publicKey), didFromPublicKey(y.publicKey)]
  const env = createMessage({ from: xDid, to: yDid, body: 'hi', ts: T0 + 30_000, nonce: randomBytes(16) }, x)
  const id = envelopeId(env)
  const inits = [
    {
      ts: T0 + 31_000,
      kind: 'envelope.accepted' as const,
      subject: xDid,
      envelopeId: id,
      code: null,
      data: { type: 'msg', to: yDid, via: 'api' },
    },
  ]
  const message = { id, envelope: env, verification: null }
  const b = syntheticExport(inits, { messages: [message], keyEvents: [] }, undefined, T0 + 50_000)
  b.doc.trust = trustRowsOf(b.doc.entries as AuditEntry[])
  return { b, message }
}

describe('null values in an export (review 125, L2)', () => {
  it('JSON: is a problem of the verdict, not a TypeError', () => {
    const { b } = exported()
    let check
    expect(() => (check = checkAuditExport(b.doc))).not.toThrow()
    expect(check!.ok).toBe(false)
  })

  it('NDJSON: the same', () => {
    const { b, message } = exported()
    let check
    expect(() => (check = checkNdjsonLines(ndjsonLines(b, { messages: [message] })))).not.toThrow()
    expect(check!.ok).toBe(false)
  })

  it('JSON: summary null is a problem of the verdict', () => {
    const a = onePeerJoinedExport()
    ;(a.doc as Record<string, unknown>).summary = null
    let check
    expect(() => (check = checkAuditExport(a.doc))).not.toThrow()
    expect(check!.ok).toBe(false)
  })

  it('NDJSON: an end line with summary null is a problem of the verdict', () => {
    const a = onePeerJoinedExport()
    const lines = ndjsonLines(a)
    const end = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>
    end.summary = null
    lines[lines.length - 1] = JSON.stringify(end)
    let check
    expect(() => (check = checkNdjsonLines(lines))).not.toThrow()
    expect(check!.ok).toBe(false)
  })

  it('a null among the listed witnesses is not counted, not a TypeError', () => {
    const a = onePeerJoinedExport()
    const doc = { ...a.doc, note: 'x\n\n— a AAAAAAA=\n', witnesses: [null] }
    expect(() => checkAuditNote(doc, { keys: [], quorum: 0 })).not.toThrow()
  })

  it('an entry whose data is null is a malformed entry of the verdict (JSON and NDJSON)', () => {
    const a = onePeerJoinedExport()
    const bad = { index: 1, ts: 1, kind: 'key.rotated', subject: a.nodeDid, envelopeId: null, code: null, data: null }
    let check
    expect(() => (check = checkAuditExport({ ...a.doc, entries: [...a.doc.entries, bad] }))).not.toThrow()
    expect(check!.ok).toBe(false)
    const lines = ndjsonLines(a)
    lines.splice(2, 0, JSON.stringify({ type: 'entry', leaf: a.doc.leafHashes[0], entry: bad }))
    expect(() => (check = checkNdjsonLines(lines))).not.toThrow()
    expect(check!.ok).toBe(false)
  })

  it('NDJSON: a null message line after an acceptance entry is a problem of the verdict', () => {
    const { b, message } = exported()
    const lines = ndjsonLines(b, { messages: [message] }).map((l) =>
      (JSON.parse(l) as { type?: string }).type === 'message' ? JSON.stringify({ type: 'message', message: null }) : l,
    )
    let check
    expect(() => (check = checkNdjsonLines(lines))).not.toThrow()
    expect(check!.ok).toBe(false)
  })
})
