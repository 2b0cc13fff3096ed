/**
 * `meshsig audit verify` on an NDJSON file (docs/audit.md) in-process: the
 * form is recognised from the first line, the file is read as a stream with
 * the progress bar on a terminal's stderr (none without one), the verdict
 * alone on stdout; the same lines from stdin (`-`) verify too, read whole
 * or as they arrive (in pieces that split lines and UTF-8 characters); a
 * JSON export on stdin is still read whole; a file whose end line is missing
 * is refused as cut short.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { auditVerifyCommand } from '../../cli/commands/audit.js'
import { eachLine } from '../../cli/commands/audit-stream.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import {
  MerkleAccumulator,
  createAuditEntry,
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  leafHashOfEntry,
  toB64,
} from '../../node/core/index.js'
import { tempDir } from '../helpers/mesh.js'

/** `text` as stdin that arrives in pieces of `size` bytes. */
async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

function fakeIo(tty: boolean, stdin = ''): CliIo & { err: string } {
  let t = 0
  const io = {
    err: '',
    stdout: () => undefined,
    stderr: (s: string) => void (io.err += s),
    readStdin: async () => new TextEncoder().encode(stdin),
    env: {},
    now: () => (t += 1000),
    stderrIsTTY: tty,
  }
  return io
}

/** The lines of a signed NDJSON export of `n` generated entries. */
function ndjsonLines(n: number): string[] {
  const key = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const acc = new MerkleAccumulator()
  const entries: string[] = []
  for (let i = 0; i < n; i++) {
    const data = { peerId: `p${i}` }
    const e = createAuditEntry(i, { ts: 1, kind: 'peer.joined', subject: did, envelopeId: null, code: null, data })
    const h = leafHashOfEntry(e)
    acc.append(h)
    entries.push(JSON.stringify({ type: 'entry', leaf: toB64(h), entry: e }))
  }
  const checkpoint = createCheckpoint(did, n, acc.root(), 1, key)
  const header = { format: 'meshsig-audit-ndjson/1', type: 'header', version: 1, size: n, checkpoint, keyEvents: 0 }
  const end = { type: 'end', entries: n, messages: 0, trust: { agents: [], peers: [], connections: [] } }
  return [JSON.stringify({ ...header, nodePublicKey: toB64(key.publicKey) }), ...entries, JSON.stringify(end)]
}

const dir = tempDir()
afterAll(() => dir.cleanup())

describe('audit verify on an NDJSON file', () => {
  const lines = ndjsonLines(30_000)
  const file = join(dir.dir, 'audit.ndjson')
  writeFileSync(file, lines.join('\n') + '\n')

  it('streams the file with a progress bar on a terminal, none without one', async () => {
    const tty = fakeIo(true)
    const r = await auditVerifyCommand(contextFrom({}, tty), file)
    expect(r.exitCode ?? 0).toBe(0)
    expect(r.json).toMatchObject({ ok: true, size: 30_000, diagnosis: 'exact' })
    expect(tty.err).toMatch(/Verifying audit export .*\d+%/)
    expect(tty.err.endsWith('\r\u001b[K')).toBe(true)
    const piped = fakeIo(false)
    expect((await auditVerifyCommand(contextFrom({}, piped), file)).exitCode ?? 0).toBe(0)
    expect(piped.err).toBe('')
  }, 60_000)

  it('reads the same lines from stdin, and refuses a file cut short', async () => {
    const stdin = fakeIo(false, lines.join('\n'))
    expect((await auditVerifyCommand(contextFrom({}, stdin), '-')).json).toMatchObject({ ok: true })
    const streamed = { ...fakeIo(false), readStdin: () => Promise.reject(new Error('read whole')) }
    const chunks = { ...streamed, stdinChunks: () => pieces(lines.join('\n') + '\n', 4093) }
    expect((await auditVerifyCommand(contextFrom({}, chunks), '-')).json).toMatchObject({ ok: true, size: 30_000 })
    const changed = lines.map((l, i) => (i === 7 ? l.replace('"p6"', '"p7"') : l)).join('\n')
    const bad = { ...streamed, stdinChunks: () => pieces(changed, 4093) }
    const altered = await auditVerifyCommand(contextFrom({}, bad), '-')
    expect(altered.exitCode).toBe(1)
    const problems = (altered.json as { problems: Array<{ kind: string; index?: number }> }).problems
    expect(problems.filter((p) => p.kind === 'altered').map((p) => p.index)).toEqual([6])
    const cut = join(dir.dir, 'cut.ndjson')
    writeFileSync(cut, lines.slice(0, -1).join('\n') + '\n')
    const r = await auditVerifyCommand(contextFrom({}, fakeIo(false)), cut)
    expect(r.exitCode).toBe(1)
    expect(r.human).toMatch(/cut short/)
  }, 60_000)
})

describe('lines of a stream', () => {
  it('keeps lines and UTF-8 characters whole across chunks, and the last line without a newline', async () => {
    const text = 'first é line\n{"name":"ünïcødé ✓"}\n\nlast'
    for (const size of [1, 2, 3, 5, 64]) {
      const got: string[] = []
      await eachLine(pieces(text, size), (l) => got.push(l))
      expect(got).toEqual(['first é line', '{"name":"ünïcødé ✓"}', '', 'last'])
    }
  })
})
