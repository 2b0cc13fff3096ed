/**
 * How many refusals an audit entry stands for (node/core/audit-refusals.ts):
 * one per `envelope.rejected` entry, the sum of its counts for decision
 * 0053's refusal summary, spread over the minutes of its window.
 */
import { describe, expect, it } from 'vitest'
import { refusalsByBucket, refusalsIn, refusalWindow } from '../../../node/core/audit-refusals.js'
import { unauditedRecord } from '../../../node/services/refusal-audit-budget.js'

const M = 60_000
const T = 1_800_000_000_000 // a minute boundary

function summary(since: number, windowMs: number, unaudited: Record<string, number>, ts: number) {
  const { kind, data } = unauditedRecord({ since, windowMs, unaudited })
  return { ts, kind, subject: null, code: 'RATE_LIMITED', data }
}

describe('refusalsIn', () => {
  it('counts a refusal summary as the sum of its counts, any other refusal as one, other entries as none', () => {
    expect(refusalsIn(summary(T, M, { MALFORMED: 5000, SIGNATURE_INVALID: 200 }, T + M))).toBe(5200)
    const plain = { kind: 'envelope.rejected' as const, subject: null, code: 'RATE_LIMITED', data: { via: 'api' } }
    expect(refusalsIn(plain)).toBe(1)
    expect(refusalsIn({ ...plain, code: 'MALFORMED', data: { via: 'gossip', unaudited: { X: 3 } } })).toBe(1)
    expect(refusalsIn({ ...plain, kind: 'envelope.accepted', code: null })).toBe(0)
  })

  it('skips counts that are not non-negative integers', () => {
    const e = summary(T, M, { A: 2 }, T + M)
    const data = { ...e.data, unaudited: { A: 2, B: -5, C: 1.5, D: '7', E: 1e300 } }
    expect(refusalsIn({ ...e, data })).toBe(2)
  })
})

describe('refusalsByBucket', () => {
  it('puts a window that lies in one minute in that minute', () => {
    const e = summary(T - 3 * M, M, { MALFORMED: 5200 }, T)
    expect(refusalWindow(e)).toEqual({ since: T - 3 * M, windowMs: M })
    expect(refusalsByBucket(e, M, 61)).toEqual([[T - 3 * M, 5200]])
  })

  it('spreads a window across two minutes by its share of each, the counts adding up', () => {
    const e = summary(T - M - M / 4, M, { MALFORMED: 1001 }, T + 5 * M)
    const spread = refusalsByBucket(e, M, 61)
    expect(spread).toEqual([
      [T - 2 * M, 250],
      [T - M, 751],
    ])
  })

  it('ends a window flushed early (at stop) when the entry was written', () => {
    const e = summary(T, M, { MALFORMED: 10 }, T + M / 2)
    expect(refusalsByBucket(e, M, 61)).toEqual([[T, 10]])
  })

  it('charges a plain refusal, or a summary without a usable window, to the minute it was written', () => {
    const plain = { ts: T + 5, kind: 'envelope.rejected' as const, subject: null, code: 'MALFORMED', data: {} }
    expect(refusalsByBucket(plain, M, 61)).toEqual([[T, 1]])
    const e = summary(T, 0, { MALFORMED: 4 }, T + 2 * M + 1)
    expect(refusalsByBucket(e, M, 61)).toEqual([[T + 2 * M, 4]])
  })

  it('spreads a window longer than the buckets kept over the last of them only', () => {
    const e = summary(T - 1000 * M, 1000 * M, { MALFORMED: 610 }, T)
    const spread = refusalsByBucket(e, M, 61)
    expect(spread).toHaveLength(61)
    expect(spread[0]![0]).toBe(T - 61 * M)
    expect(spread.reduce((n, [, k]) => n + k, 0)).toBe(610)
  })
})
