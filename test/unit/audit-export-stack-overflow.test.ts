/**
 * A stack overflow anywhere in the checks (here: the trust check, made to
 * overflow) is a problem of a verdict that does not verify, never an
 * exception that leaves the auditor with none, nor a pass.
 */
import { describe, expect, it, vi } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { checkNdjsonLines, ndjsonLines, onePeerJoinedExport } from '../helpers/synthetic-export.js'

vi.mock('../../node/audit/trust-check.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../node/audit/trust-check.js')>()),
  checkTrustScores: (): number => {
    throw new RangeError('Maximum call stack size exceeded')
  },
}))

const base = onePeerJoinedExport

describe('a stack overflow inside the checks', () => {
  it('JSON: a verdict that does not verify, naming the overflow', () => {
    const check = checkAuditExport(structuredClone(base().doc))
    expect(check.ok).toBe(false)
    expect(check.log.problems.map((p) => p.message).join('\n')).toMatch(/stack overflow/)
  })

  it('NDJSON: a verdict that does not verify, naming the overflow', () => {
    const check = checkNdjsonLines(ndjsonLines(base()))
    expect(check.ok).toBe(false)
    expect(check.problems.map((p) => p.message).join('\n')).toMatch(/stack overflow/)
  })
})
