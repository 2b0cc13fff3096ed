/**
 * The progress bar of `meshsig audit verify` on long logs: drawn on stderr
 * only when stderr is a terminal (checked in-process with a fake terminal,
 * and with the real CLI under a pseudo-terminal from `script`), erased at
 * the end, and never seen by pipes or in stdout.
 */
import { execFile, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditVerifyCommand } from '../../cli/commands/audit.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import { progressBar, progressLine } from '../../cli/progress.js'
import {
  createAuditEntry,
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  leafHashOfEntry,
  MerkleAccumulator,
  toB64,
  type AuditEntry,
} from '../../node/core/index.js'
import { tempDir } from '../helpers/mesh.js'
import { buildCli, type BuiltCli } from './build-cli.js'

function fakeIo(tty: boolean, step = 1000): CliIo & { err: string; out: string } {
  let t = 0
  const io = {
    err: '',
    out: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    readStdin: async () => new Uint8Array(),
    env: {},
    now: () => (t += step),
    stderrIsTTY: tty,
  }
  return io
}

/** A signed export of `n` generated entries (what a busy node's log looks like to the verifier). */
function bigExport(n: number): Record<string, unknown> {
  const node = generateKeyPair()
  const did = didFromPublicKey(node.publicKey)
  const acc = new MerkleAccumulator()
  const entries: AuditEntry[] = []
  const leafHashes: string[] = []
  for (let i = 0; i < n; i++) {
    const e = createAuditEntry(i, {
      ts: 1_764_000_000_000 + i,
      kind: 'peer.joined',
      subject: did,
      envelopeId: null,
      code: null,
      data: { peerId: `p${i}` },
    })
    const h = leafHashOfEntry(e)
    acc.append(h)
    entries.push(e)
    leafHashes.push(toB64(h))
  }
  const checkpoint = createCheckpoint(did, n, acc.root(), 1_764_000_000_000 + n, node)
  return { entries, leafHashes, checkpoint, nodePublicKey: toB64(node.publicKey) }
}

describe('progressBar', () => {
  it('draws on a terminal, at most every interval, and erases itself at the end', () => {
    const io = fakeIo(true)
    const bar = progressBar(io, { label: 'Verifying', delayMs: 0, intervalMs: 0 })
    bar.update(50, 200)
    bar.update(200, 200)
    bar.done()
    expect(io.err).toBe(
      `\r${progressLine('Verifying', 50, 200)}\u001b[K\r${progressLine('Verifying', 200, 200)}\u001b[K\r\u001b[K`,
    )
    expect(progressLine('V', 50, 200, 4)).toBe('V █░░░  25% 50/200')
    expect(io.out).toBe('')
  })

  it('draws nothing when stderr is not a terminal, or before the work has lasted a moment', () => {
    const pipe = fakeIo(false)
    const bar = progressBar(pipe, { label: 'x', delayMs: 0 })
    bar.update(1, 2)
    bar.done()
    expect(pipe.err).toBe('')
    const quick = fakeIo(true, 1)
    const short = progressBar(quick, { label: 'x', delayMs: 250 })
    short.update(1, 2)
    short.done()
    expect(quick.err).toBe('')
  })
})

describe('meshsig audit verify on a long log', () => {
  let cli: BuiltCli
  let dir: { dir: string; cleanup: () => void }
  let file: string

  beforeAll(() => {
    cli = buildCli()
    dir = tempDir('meshsig-audit-progress-')
    file = join(dir.dir, 'big.json')
    writeFileSync(file, JSON.stringify(bigExport(150_000)))
  }, 60_000)
  afterAll(() => {
    cli?.cleanup()
    dir?.cleanup()
  })

  it('in-process with a terminal on stderr: a bar on stderr, the verdict alone on stdout', async () => {
    const io = fakeIo(true)
    const result = await auditVerifyCommand(contextFrom({}, io), file)
    expect(result.exitCode ?? 0).toBe(0)
    expect(io.err).toContain('Verifying audit export')
    expect(io.err).toContain('100% 300,000/300,000')
    expect(io.err.endsWith('\r\u001b[K')).toBe(true)
    expect(result.human).toMatch(/^✓ Audit export verified/)
  })

  it('as a process: nothing on a piped stderr', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli.main, 'audit', 'verify', file], (err, _out, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stderr }),
      )
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  })

  const hasScript = ((): boolean => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!hasScript)('as a process on a pseudo-terminal (script): the bar is drawn and erased', async () => {
    const command = `'${process.execPath}' '${cli.main}' audit verify '${file}'`
    const out = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      )
    })
    expect(out).toContain('Verifying audit export')
    expect(out).toMatch(/\r\u001b\[K✓ Audit export verified/)
  })
})
