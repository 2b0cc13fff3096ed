// Review 128 (info, predates decision 0089): the JSON form's summary count of entries is held to the entries
// (`summary.auditEntries`), but the NDJSON end line's `entries` (docs/audit.md: `{"type":"end","entries":N,...}`)
// is read by nothing: an end line claiming 999 entries, or "x", verifies, although `finish()` is documented to give
// the same verdict as `checkAuditExport`.
import { describe, expect, it } from 'vitest'
import { checkNdjsonLines, ndjsonLines, onePeerJoinedExport } from '../helpers/synthetic-export.js'

describe("the NDJSON end line's entry count (review 128)", () => {
  it('control: the honest end line verifies', () => {
    expect(checkNdjsonLines(ndjsonLines(onePeerJoinedExport())).ok).toBe(true)
  })

  for (const claimed of [999, 'x']) {
    it(`an end line claiming entries=${JSON.stringify(claimed)} does not verify`, () => {
      const lines = ndjsonLines(onePeerJoinedExport())
      const end = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>
      expect(end.type).toBe('end')
      lines[lines.length - 1] = JSON.stringify({ ...end, entries: claimed })
      expect(checkNdjsonLines(lines).ok).toBe(false)
    })
  }
})
