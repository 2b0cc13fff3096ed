// The node-wide budget of gossip refusals audited entry by entry (node/services/refusal-audit-budget.ts,
// docs/protocol.md §7, decision 0053): past it a refusal is counted, and one entry per window sums the counts up.
import { describe, expect, it } from 'vitest'
import type { AuditInput } from '../../../node/audit/audit-log.js'
import { checkAuditEntry, createAuditEntry } from '../../../node/core/audit-entry.js'
import { RefusalAuditBudget, unauditedRecord } from '../../../node/services/refusal-audit-budget.js'
import { FixedClock } from '../../helpers/service-kit.js'

const entry = (code: string): AuditInput => ({ kind: 'envelope.rejected', code, data: { via: 'gossip' } })

describe('the budget of audited gossip refusals', () => {
  it('audits refusals entry by entry within the window, counts the rest, and sums them up in the next', () => {
    const clock = new FixedClock()
    const budget = new RefusalAuditBudget({ auditedRefusalsPerWindow: 3, refusalWindowMs: 60_000 }, clock.now)
    const log: AuditInput[] = []
    const since = clock.ms
    const audited = ['MALFORMED', 'MALFORMED', 'SIGNATURE_INVALID', 'MALFORMED', 'MALFORMED', 'SIGNATURE_INVALID'].map(
      (code) => budget.audit(code, entry(code), (e) => log.push(e)),
    )
    expect(audited).toEqual([true, true, true, false, false, false])
    expect(log).toHaveLength(3)
    expect(budget.unaudited()).toEqual({ MALFORMED: 2, SIGNATURE_INVALID: 1 })

    clock.advance(60_000) // the next window: its first refusal brings the summary of the last one first
    expect(budget.audit('MALFORMED', entry('MALFORMED'), (e) => log.push(e))).toBe(true)
    expect(log).toHaveLength(5)
    expect(log[3]).toEqual({
      kind: 'envelope.rejected',
      subject: null,
      envelopeId: null,
      code: 'RATE_LIMITED',
      data: { via: 'gossip', since, windowMs: 60_000, unaudited: { MALFORMED: 2, SIGNATURE_INVALID: 1 } },
    })
    expect(log[4]).toEqual(entry('MALFORMED'))
    expect(budget.unaudited()).toEqual({ MALFORMED: 2, SIGNATURE_INVALID: 1 }) // totals since start (metrics)
  })

  it('writes no summary for a window that stayed within its budget, and hands the current one over once', () => {
    const clock = new FixedClock()
    const budget = new RefusalAuditBudget({ auditedRefusalsPerWindow: 1, refusalWindowMs: 1_000 }, clock.now)
    const log: AuditInput[] = []
    budget.audit('MALFORMED', entry('MALFORMED'), (e) => log.push(e))
    clock.advance(1_000)
    budget.audit('MALFORMED', entry('MALFORMED'), (e) => log.push(e))
    expect(log).toHaveLength(2)
    expect(budget.audit('MALFORMED', entry('MALFORMED'), (e) => log.push(e))).toBe(false)
    expect(budget.flush()?.unaudited).toEqual({ MALFORMED: 1 })
    expect(budget.flush()).toBeUndefined()
    expect(budget.audit('MALFORMED', entry('MALFORMED'), (e) => log.push(e))).toBe(false) // the window's budget stays used
  })

  it('sums a window up in an audit entry every verifier takes', () => {
    const record = unauditedRecord({ since: 1, windowMs: 60_000, unaudited: { MALFORMED: 1936 } })
    const entry = createAuditEntry(0, { ...record, ts: Date.UTC(2026, 0, 1) } as Parameters<typeof createAuditEntry>[1])
    expect(checkAuditEntry(entry).ok).toBe(true)
  })
})
