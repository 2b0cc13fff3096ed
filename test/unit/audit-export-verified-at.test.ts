// Attack review 125, L1: a message's whole `verification` (status, entry, verifiedAt, key, seq) must be what the
// log gives; a backdated acceptance is a problem in JSON and NDJSON (docs/audit.md, decision 0089).
/**
 * Review 125: a message's `verification` in an export is "how the log says
 * it was verified" (node/audit/message-verification.ts): the acceptance entry
 * (`auditIndex`), the key and its seq, and `verifiedAt`, the time of that
 * entry. `checkMessage` compared publicKey, keySeq and auditIndex with the
 * log's, not `verifiedAt`: an operator could show a message as accepted at any
 * time it likes (before a rotation, a revocation, a deadline), and
 * `meshsig audit verify` said the export verifies, in both forms.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  createMessage,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  toB64,
  type AuditEntry,
  type AuditEntryInit,
} from '../../node/core/index.js'
import { checkNdjsonLines, ndjsonLines, syntheticExport, trustRowsOf } from '../helpers/synthetic-export.js'

const T0 = Date.now() - 60_000
const hex = (): string => randomBytes(32).toString('hex')

function scene(verifiedAt: string, extra: Record<string, unknown> = {}) {
  const x = generateKeyPair()
  const y = generateKeyPair()
  const [xDid, yDid] = [didFromPublicKey(x.publicKey), didFromPublicKey(y.publicKey)]
  const env = createMessage({ from: xDid, to: yDid, body: 'pay 10 EUR', ts: T0 + 30_000, nonce: randomBytes(16) }, x)
  const id = envelopeId(env)
  const reg = (did: string, ts: number): AuditEntryInit => ({
    ts,
    kind: 'agent.registered',
    subject: did,
    envelopeId: hex(),
    code: null,
    data: { name: 'a', controller: did, capabilities: [] },
  })
  const inits: AuditEntryInit[] = [
    reg(xDid, T0 + 1000),
    reg(yDid, T0 + 2000),
    {
      ts: T0 + 31_000,
      kind: 'envelope.accepted',
      subject: xDid,
      envelopeId: id,
      code: null,
      data: { type: 'msg', to: yDid, via: 'api', deliveredBy: 'api:127.0.0.1' },
    },
  ]
  const message = {
    id,
    envelope: env,
    verification: { status: 'verified', auditIndex: 2, verifiedAt, publicKey: toB64(x.publicKey), keySeq: 0, ...extra },
  }
  return { inits, message }
}

const logged = new Date(T0 + 31_000).toISOString()
const shifted = new Date(T0 - 86_400_000 * 30).toISOString() // a month before the entry

function jsonCheck(verifiedAt: string, extra: Record<string, unknown> = {}) {
  const s = scene(verifiedAt, extra)
  const b = syntheticExport(s.inits, { messages: [s.message], keyEvents: [] }, undefined, T0 + 50_000)
  b.doc.trust = trustRowsOf(b.doc.entries as AuditEntry[])
  b.doc.summary = { totalMessages: 1, auditEntries: s.inits.length }
  return checkAuditExport(b.doc)
}

function ndjsonCheck(verifiedAt: string, extra: Record<string, unknown> = {}) {
  const s = scene(verifiedAt, extra)
  const b = syntheticExport(s.inits, {}, undefined, T0 + 50_000)
  return checkNdjsonLines(ndjsonLines(b, { messages: [s.message] }))
}

describe('a message shown accepted at another time than its entry (review 125, L1)', () => {
  it('control: the honest verifiedAt verifies (JSON and NDJSON)', () => {
    expect(jsonCheck(logged).ok).toBe(true)
    expect(ndjsonCheck(logged).ok).toBe(true)
  })

  it('JSON: verification.verifiedAt a month before its acceptance entry is a problem', () => {
    const check = jsonCheck(shifted)
    expect(check.ok).toBe(false)
    expect(check.problems.map((p) => p.message).join('\n')).toMatch(/verification's verifiedAt differs from the log's/)
  })

  it('NDJSON: the same', () => {
    expect(ndjsonCheck(shifted).ok).toBe(false)
  })

  it('another status, or a field the log gives none of, is a problem too (JSON and NDJSON)', () => {
    for (const extra of [{ status: 'pending' }, { verifiedBy: 'the operator' }]) {
      expect(jsonCheck(logged, extra).ok).toBe(false)
      expect(ndjsonCheck(logged, extra).ok).toBe(false)
    }
  })
})
