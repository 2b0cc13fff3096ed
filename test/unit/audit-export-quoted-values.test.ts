/**
 * Export values quoted in problems go through `quoteValue`: bounded, and an
 * array or object named by its type, never rendered (rendering recurses).
 */
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { isStackOverflow, quoteValue } from '../../node/audit/untrusted-value.js'
import { nestedArray, onePeerJoinedExport } from '../helpers/synthetic-export.js'

describe('quoteValue', () => {
  it('shows primitives, quotes and cuts strings, names arrays and objects by type', () => {
    expect(quoteValue(7)).toBe('7')
    expect(quoteValue(null)).toBe('null')
    expect(quoteValue(undefined)).toBe('undefined')
    expect(quoteValue('did:msig:x')).toBe('"did:msig:x"')
    expect(quoteValue('x'.repeat(10_000)).length).toBeLessThan(110)
    expect(quoteValue(nestedArray(100_000))).toBe('an array')
    expect(quoteValue({ a: { b: 1 } })).toBe('an object')
  })

  it('isStackOverflow is true only for the engine stack overflow', () => {
    const overflow = (): number => overflow() + 1
    let err: unknown
    try {
      overflow()
    } catch (e) {
      err = e
    }
    expect(isStackOverflow(err)).toBe(true)
    expect(isStackOverflow(new RangeError('Invalid time value'))).toBe(false)
    expect(isStackOverflow(new Error('Maximum call stack size exceeded'))).toBe(false)
  })
})

describe('a summary count that is a nested array (within the depth bound)', () => {
  it('is quoted by its type, not rendered', () => {
    const doc = structuredClone(onePeerJoinedExport().doc) as Record<string, unknown>
    doc.summary = { totalMessages: nestedArray(100), auditEntries: 1 }
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(check.problems.map((p) => p.message)).toContain('summary.totalMessages is an array; the export holds 0')
  })
})
