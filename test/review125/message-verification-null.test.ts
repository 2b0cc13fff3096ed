/**
 * Review 125: `checkMessage` reads `m.verification.publicKey` whenever
 * `verification` is not undefined; `"verification": null` throws a TypeError
 * that no check catches. `meshsig audit verify` on such a file (either form)
 * prints `✗ Cannot read properties of null (reading 'publicKey')`, code
 * INTERNAL, exit 1, and no verdict at all (docs/audit.md: any value is a
 * problem of the verdict, never an error without one).
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair, type AuditEntry } from '../../node/core/index.js'
import { checkNdjsonLines, ndjsonLines, syntheticExport, trustRowsOf } from '../helpers/synthetic-export.js'

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

describe('review 125: a message whose verification is null', () => {
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
})
