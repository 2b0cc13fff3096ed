// eachLine (cli/commands/audit-stream.ts), the reader of `meshsig audit verify` for NDJSON files and stdin: any
// cut of the bytes into chunks gives the lines of the text, a character split across chunks stays whole, and a
// line longer than many chunks (the trailer lists every agent) comes whole, once. Its cost is linear in the line
// (pieces joined once at the newline): measured by the benchmark, not asserted here.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { eachLine } from '../../cli/commands/audit-stream.js'

async function* cut(bytes: Uint8Array, at: number[]): AsyncGenerator<Uint8Array> {
  let from = 0
  for (const to of [...at].sort((a, b) => a - b)) {
    yield bytes.subarray(from, to)
    from = to
  }
  yield bytes.subarray(from)
}

async function lines(bytes: Uint8Array, at: number[]): Promise<string[]> {
  const out: string[] = []
  await eachLine(cut(bytes, at), (l) => out.push(l))
  return out
}

describe('eachLine', () => {
  it('gives the lines of the text however the bytes are cut (property)', async () => {
    const text = fc.array(fc.oneof(fc.string(), fc.constantFrom('é', '€', '𝄞', '\n', '\n\n')), { maxLength: 30 })
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 20 }), async (parts, cuts) => {
        const t = parts.join('')
        const bytes = new TextEncoder().encode(t)
        const expected = t.split('\n')
        if (expected[expected.length - 1] === '') expected.pop()
        expect(
          await lines(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
        ).toEqual(expected)
      }),
    )
  })

  it('gives a line of 4 MB, cut into 64 KB chunks, whole and once', async () => {
    const line = 'a'.repeat(4 * 1024 * 1024)
    const bytes = new TextEncoder().encode(`{"type":"header"}\n${line}\nlast`)
    const at = Array.from({ length: Math.floor(bytes.length / 65_536) }, (_, i) => (i + 1) * 65_536)
    expect(await lines(bytes, at)).toEqual(['{"type":"header"}', line, 'last'])
  })
})
