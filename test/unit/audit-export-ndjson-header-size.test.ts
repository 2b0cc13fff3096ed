// Review 128 (decision 0089, "any value of the file is a problem of the verdict, never an error without one"):
// the CLI's NDJSON reader converts the header's `size` with Number() for its progress bar every 10,000 lines,
// outside NdjsonExportCheck's fail-closed wrapper. A header whose size is {"valueOf":1,"toString":1} (JSON can
// shadow both) makes Number() throw "Cannot convert object to primitive value": `meshsig audit verify` stopped
// with an exception instead of a verdict. The header's size is read by nothing else, so the verdict is the one
// the same file gives without the padding.
import { describe, expect, it } from 'vitest'
import { verifyNdjson } from '../../cli/commands/audit-stream.js'
import { ndjsonLines, onePeerJoinedExport } from '../helpers/synthetic-export.js'

function craft(padding: number): string {
  const lines = ndjsonLines(onePeerJoinedExport())
  const header = JSON.parse(lines[0]!) as Record<string, unknown>
  lines[0] = JSON.stringify({ ...header, size: { valueOf: 1, toString: 1 } })
  return [lines[0], ...Array.from({ length: padding }, () => ''), ...lines.slice(1)].join('\n')
}

describe("an NDJSON header's size the progress bar cannot convert (review 128)", () => {
  it('gives the verdict the file gives without the progress bar, not an exception', async () => {
    const verdict = (text: string) =>
      verifyNdjson(text, () => {}).then(
        (v) => ({ verdict: v.check.ok }),
        (err: unknown) => ({ threw: String(err) }),
      )
    const quiet = await verdict(craft(0)) // fewer lines than a progress step: the size is never converted
    expect(quiet).toHaveProperty('verdict')
    expect(await verdict(craft(10_000))).toEqual(quiet)
  })
})
