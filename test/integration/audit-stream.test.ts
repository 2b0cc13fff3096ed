/**
 * The streamed audit export (docs/audit.md) on a large log: 200 000 entries
 * generated directly into a node's store file (as audit-store.bench does),
 * the node started on it with its API, `meshsig audit --ndjson --out FILE`
 * and `meshsig audit verify FILE` (and `verify -` with the file on stdin)
 * run as real processes. The verifier's peak RSS (VmHWM, read from
 * /proc/self/status as the child exits) stays far below the file, from a
 * file and from stdin alike (reading stdin whole would hold the file
 * twice: bytes and text); one changed byte in one entry line is caught and the
 * entry named; a cut-short file is refused; a line-swapped file is refused.
 * The JSON form still verifies on a small export of the same node.
 */
import { execFile } from 'node:child_process'
import { createReadStream, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditLog, type AuditInput } from '../../node/audit/audit-log.js'
import { didFromPublicKey, keyPairFromSeed } from '../../node/core/index.js'
import { openStore } from '../../node/store/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'

const N = 200_000
const AGENTS = [8, 9, 10, 11].map((s) => didFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(s)).publicKey))
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
/** A preload that prints the process's peak resident set size (kB, from /proc) when it exits. */
const PEAK_RSS = `process.on('exit', () => {
  const kb = /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]
  process.stderr.write('\\nPEAK_RSS_KB ' + kb + '\\n')
})\n`

function inputAt(i: number): AuditInput {
  const envelopeId = (i * 2654435761).toString(16).padStart(64, '0').slice(-64)
  const from = AGENTS[i % AGENTS.length]!
  const to = AGENTS[(i + 1) % AGENTS.length]!
  if (i % 10 === 7) {
    const data = { type: 'msg', to, via: 'gossip', deliveredBy: PEER, attributableTo: from }
    return { kind: 'envelope.rejected', subject: from, envelopeId, code: 'REPLAY', data }
  }
  if (i % 10 === 8) return { kind: 'peer.joined', subject: from, data: { peerId: PEER } }
  return {
    kind: 'envelope.accepted',
    subject: from,
    envelopeId,
    data: { type: 'msg', to, via: 'gossip', deliveredBy: PEER },
  }
}

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let cli: BuiltCli
let fx: ApiFixture
const dir = tempDir()

/** Most peak RSS of the verifier, file or stdin (docs/benchmarks.md: ~90 MB at 500 000 and 2 000 000 entries). */
const MAX_PEAK_MB = 150

function meshsig(args: string[], preload?: string, stdinFile?: string): Promise<Run> {
  const pre = preload === undefined ? [] : ['--require', preload]
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...pre, cli.main, ...args],
      { env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: join(dir.dir, 'home') }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    )
    if (stdinFile !== undefined) createReadStream(stdinFile).pipe(child.stdin!)
    else child.stdin?.end()
  })
}

function peakMb(run: Run): number {
  const kb = /PEAK_RSS_KB (\d+)/.exec(run.stderr)?.[1]
  if (kb === undefined) throw new Error(`no peak RSS in ${run.stderr}`)
  return Number(kb) / 1024
}

describe('streamed audit export of a large log', () => {
  const file = join(dir.dir, 'audit.ndjson')
  const preload = join(dir.dir, 'peak-rss.cjs')

  beforeAll(async () => {
    writeFileSync(preload, PEAK_RSS)
    const dbPath = join(dir.dir, 'node.db')
    const store = openStore({ path: dbPath })
    const log = new AuditLog(store, () => 1_764_000_000_000)
    for (let i = 0; i < N; i += 500) {
      store.transaction(() => {
        for (let j = i; j < Math.min(N, i + 500); j++) log.append(inputAt(j))
      })
    }
    store.close()
    cli = buildCli()
    fx = await startApi({}, {}, { dbPath })
  }, 600_000)

  afterAll(async () => {
    await fx?.node.stop()
    cli?.cleanup()
    dir.cleanup()
  })

  it('exports NDJSON at one tree size and verifies it in bounded memory', async () => {
    const exported = await meshsig(['audit', '--ndjson', '--out', file, '--server', fx.url])
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n').filter((l) => l !== '')
    const header = JSON.parse(lines[0]!) as { format: string; size: number; checkpoint: { size: number }; note: string }
    expect(header.format).toBe('meshsig-audit-ndjson/2')
    expect(header.size).toBeGreaterThan(N)
    expect(header.checkpoint.size).toBe(header.size)
    expect(header.note.startsWith(`${fx.node.did}\n${header.size}\n`)).toBe(true)
    expect(lines.filter((l) => l.startsWith('{"type":"entry"'))).toHaveLength(header.size)
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ type: 'end', entries: header.size })

    const verified = await meshsig(['audit', 'verify', file, '--json'], preload)
    expect(verified.code).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, size: header.size, diagnosis: 'exact' })
    const mb = peakMb(verified)
    const fileMb = statSync(file).size / 1024 / 1024
    expect(fileMb).toBeGreaterThan(60) // the log is large …
    expect(mb).toBeLessThan(MAX_PEAK_MB) // … and the verifier holds none of it

    const piped = await meshsig(['audit', 'verify', '-', '--json'], preload, file)
    expect(piped.code).toBe(0)
    expect(JSON.parse(piped.stdout)).toMatchObject({ ok: true, size: header.size, diagnosis: 'exact' })
    expect(peakMb(piped)).toBeLessThan(MAX_PEAK_MB) // stdin streams too
  }, 300_000)

  it('names the entry whose line had one byte changed, and refuses cut-short and swapped files', async () => {
    const text = readFileSync(file, 'utf8')
    const target = 123_457
    const marker = `"entry":{"index":${target},`
    const at = text.indexOf(marker)
    expect(at).toBeGreaterThan(0)
    const subjectAt = text.indexOf('did:msig:', at) + 'did:msig:'.length + 5
    const flipped = text[subjectAt] === 'A' ? 'B' : 'A'
    const changed = join(dir.dir, 'changed.ndjson')
    writeFileSync(changed, text.slice(0, subjectAt) + flipped + text.slice(subjectAt + 1))
    const run = await meshsig(['audit', 'verify', changed, '--json'], preload)
    expect(run.code).toBe(1)
    const verdict = JSON.parse(run.stdout) as { diagnosis: string; problems: Array<{ kind: string; index?: number }> }
    expect(verdict.diagnosis).toBe('exact')
    expect(verdict.problems.filter((p) => p.kind === 'altered').map((p) => p.index)).toEqual([target])
    expect(peakMb(run)).toBeLessThan(MAX_PEAK_MB)

    const cut = join(dir.dir, 'cut.ndjson')
    writeFileSync(cut, text.slice(0, text.indexOf(`"entry":{"index":${target},`)).replace(/[^\n]*$/, ''))
    const short = await meshsig(['audit', 'verify', cut])
    expect(short.code).toBe(1)
    expect(short.stdout).toMatch(/cut short/)

    const lines = text.split('\n')
    const i = lines.findIndex((l) => l.includes(`"entry":{"index":${target},`))
    ;[lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!]
    const swapped = join(dir.dir, 'swapped.ndjson')
    writeFileSync(swapped, lines.join('\n'))
    const moved = await meshsig(['audit', 'verify', swapped, '--json'])
    expect(moved.code).toBe(1)
    const problems = (JSON.parse(moved.stdout) as { problems: Array<{ kind: string; position?: number }> }).problems
    expect(problems.filter((p) => p.kind === 'renumbered').map((p) => p.position)).toContain(target)
  }, 300_000)

  it('--out refuses a symbolic link planted at FILE (another user could point it at any file) and writes nothing', async () => {
    const victim = join(dir.dir, 'victim.txt')
    writeFileSync(victim, 'precious')
    const link = join(dir.dir, 'planted.ndjson')
    symlinkSync(victim, link)
    const run = await meshsig(['audit', '--ndjson', '--out', link, '--server', fx.url])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('symbolic link')
    expect(readFileSync(victim, 'utf8')).toBe('precious')
  })
})
