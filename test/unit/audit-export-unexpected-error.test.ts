// Attack review 125, L2: any unexpected error inside the checks (here: the trust check and the note's vkeys, made
// to throw a TypeError) is a problem of a verdict that does not verify, never an exception without one (fail closed).
import { describe, expect, it, vi } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { checkAuditNote } from '../../node/core/audit-note.js'
import { encodeVkey, noteVerifier, NOTE_COSIGNATURE_V1 } from '../../node/core/note.js'
import { generateKeyPair } from '../../node/core/index.js'
import { checkNdjsonLines, ndjsonLines, onePeerJoinedExport } from '../helpers/synthetic-export.js'

vi.mock('../../node/audit/trust-check.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../node/audit/trust-check.js')>()),
  checkTrustScores: (): number => {
    throw new TypeError("Cannot read properties of null (reading 'x')")
  },
}))

const thrown = vi.hoisted(() => ({ on: false }))
vi.mock('../../node/core/note.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../node/core/note.js')>()
  return {
    ...m,
    encodeVkey: (...args: Parameters<typeof m.encodeVkey>): string => {
      if (thrown.on) throw new TypeError('unexpected')
      return m.encodeVkey(...args)
    },
  }
})

describe('an unexpected error inside the checks (review 125, L2)', () => {
  it('JSON: a verdict that does not verify, naming the error', () => {
    const check = checkAuditExport(structuredClone(onePeerJoinedExport().doc))
    expect(check.ok).toBe(false)
    expect(check.log.problems.map((p) => p.message).join('\n')).toMatch(/could not be checked.*reading 'x'/)
  })

  it('NDJSON: a verdict that does not verify, naming the error', () => {
    const check = checkNdjsonLines(ndjsonLines(onePeerJoinedExport()))
    expect(check.ok).toBe(false)
    expect(check.problems.map((p) => p.message).join('\n')).toMatch(/could not be checked.*reading 'x'/)
  })

  it('the note check: not ok, the error a problem', () => {
    const vkey = encodeVkey(noteVerifier('w', NOTE_COSIGNATURE_V1, generateKeyPair().publicKey))
    thrown.on = true
    const check = checkAuditNote({ note: 'x\n\n— a AAAAAAA=\n' }, { keys: [vkey], quorum: 0 })
    thrown.on = false
    expect(check.ok).toBe(false)
    expect(check.problems.join('\n')).toMatch(/the note could not be checked: unexpected/)
  })
})
