/**
 * A stack overflow anywhere in the checks (here: the trust check, made to
 * overflow) is a problem of a verdict that does not verify, never an
 * exception that leaves the auditor with none, nor a pass.
 */
import { describe, expect, it, vi } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { checkNdjsonLines, ndjsonLines, syntheticExport } from '../helpers/synthetic-export.js'

vi.mock('../../node/audit/trust-check.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../node/audit/trust-check.js')>()),
  checkTrustScores: (): number => {
    throw new RangeError('Maximum call stack size exceeded')
  },
}))

const T0 = Date.now() - 60_000
const peerJoined = {
  ts: T0,
  kind: 'peer.joined' as const,
  subject: null,
  envelopeId: null,
  code: null,
  data: { peerId: 'x' },
}
const base = () => syntheticExport([peerJoined], {}, undefined, T0 + 1000)

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
