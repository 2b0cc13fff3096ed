/**
 * Decision 0053's refusal summary (one `envelope.rejected` entry, code
 * RATE_LIMITED, standing for every gossip refusal of a window past the
 * audit budget, `data.unaudited` by code) counts as the refusals it stands
 * for wherever refusals are counted: the JSON export's
 * `summary.failedVerifications`, the NDJSON end line's summary, and the
 * dashboard's rejected rate, charged to the minutes of its window
 * (`data.since`, `data.windowMs`), not to the minute it was written. The
 * offline verifier recounts it the same way: the honest exports verify, a
 * summary that counts the entry as one refusal does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import { unauditedRecord } from '../../node/services/refusal-audit-budget.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'

const MINUTE = 60_000
let fx: ApiFixture
/** The minute the summed-up window lies in (two minutes before the one the entry is written in). */
let windowMinute: number

type Entry = { kind: string; code: string | null; data: Record<string, unknown> }
type JsonExport = { summary: { failedVerifications: number }; entries: Entry[] }

beforeAll(async () => {
  fx = await startApi({}, {}, { init: { minCheckpointIntervalMs: 0, limits: { onDemandCheckpointMs: 0 } } })
  windowMinute = Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE
  // exactly what RefusalAuditBudget appends when a flooded window ends (node/services/refusal-audit-budget.ts)
  fx.node.audit.record(
    unauditedRecord({ since: windowMinute, windowMs: MINUTE, unaudited: { MALFORMED: 5000, SIGNATURE_INVALID: 200 } }),
  )
  await fx.call('POST', '/audit/checkpoint', undefined)
}, 60_000)

afterAll(async () => {
  await fx?.stop()
})

/** Refusals the other `envelope.rejected` entries of `entries` stand for: one each. */
const others = (entries: readonly Entry[]): number =>
  entries.filter((e) => e.kind === 'envelope.rejected' && e.code !== 'RATE_LIMITED').length

async function jsonExport(): Promise<JsonExport> {
  return (await (await fetch(`${fx.url}/audit/export`)).json()) as JsonExport
}

async function ndjsonExport(): Promise<string[]> {
  const text = await (await fetch(`${fx.url}/audit/export?format=ndjson`)).text()
  return text.split('\n').filter((l) => l !== '')
}

function checkLines(lines: readonly string[]) {
  const c = new NdjsonExportCheck()
  for (const l of lines) c.line(l)
  return c.finish()
}

describe('a window of 5 200 unaudited gossip refusals summed up in one entry', () => {
  it('counts 5 200 refusals in the JSON export summary, and the export verifies', async () => {
    const report = await jsonExport()
    const entry = report.entries.find((e) => e.kind === 'envelope.rejected' && e.code === 'RATE_LIMITED')
    expect(entry?.data.unaudited).toEqual({ MALFORMED: 5000, SIGNATURE_INVALID: 200 })
    expect(report.summary.failedVerifications).toBe(5200 + others(report.entries))
    expect(checkAuditExport(report).problems).toEqual([])
  })

  it('counts 5 200 refusals in the NDJSON end line, and the export verifies', async () => {
    const lines = await ndjsonExport()
    const entries = lines.map((l) => JSON.parse(l) as { type: string; entry?: Entry })
    const end = JSON.parse(lines.at(-1)!) as { type: string; summary: { failedVerifications: number } }
    expect(end.type).toBe('end')
    const logged = entries.flatMap((l) => (l.type === 'entry' && l.entry ? [l.entry] : []))
    expect(end.summary.failedVerifications).toBe(5200 + others(logged))
    expect(checkLines(lines).problems).toEqual([])
  })

  it('the verifier refuses a summary that counts the entry as one refusal (both forms)', async () => {
    const report = await jsonExport()
    report.summary.failedVerifications = 1 + others(report.entries)
    expect(checkAuditExport(report).problems.map((p) => p.subject)).toEqual(['failedVerifications'])
    const lines = await ndjsonExport()
    const end = JSON.parse(lines.at(-1)!) as { summary: { failedVerifications: number } }
    end.summary.failedVerifications = 1
    const check = checkLines([...lines.slice(0, -1), JSON.stringify(end)])
    expect(check.problems.map((p) => p.subject)).toEqual(['failedVerifications'])
  })

  it('charges the dashboard’s rejected rate with 5 200 in the minute of the window, not the minute written', () => {
    const rates = fx.node.history().rates()
    const at = (t: number): number => rates.find((p) => p.t === t)?.rejected ?? -1
    expect(at(windowMinute)).toBe(5200)
    const written = Math.floor(Date.now() / MINUTE) * MINUTE
    expect(at(written) + at(written - MINUTE)).toBeLessThan(5200)
  })
})
