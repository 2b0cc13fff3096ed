/**
 * `meshsig audit --json > report.json` and `meshsig audit verify report.json`
 * as real processes, on an export fetched from a real node after real
 * traffic: the untouched export verifies (exit 0); one changed byte in one
 * entry, one deleted entry, two swapped entries each fail (exit 1) and the
 * output names the entries.
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditReport } from '../../node/services/report-service.js'
import { tempDir } from '../helpers/mesh.js'
import { auditScene, type AuditScene } from '../integration/audit-fixture.js'
import { buildCli, type BuiltCli } from './build-cli.js'

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let cli: BuiltCli
let scene: AuditScene
let dir: { dir: string; cleanup: () => void }
let reportPath: string
let reportText: string

/** Run the compiled CLI as a child process (asynchronously: the node under test answers in this process). */
function meshsig(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli.main, ...args],
      { env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: join(dir.dir, 'home') }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

interface Problem {
  readonly kind: string
  readonly index?: number
}

/** The problems that name entries (leaving out the root and size mismatches they cause), as [kind, index]. */
function entryProblems(problems: readonly Problem[]): Array<[string, number | undefined]> {
  return problems.filter((p) => p.kind !== 'root-mismatch' && p.kind !== 'size-mismatch').map((p) => [p.kind, p.index])
}

function writeVariant(name: string, change: (doc: AuditReport) => void): string {
  const doc = JSON.parse(reportText) as AuditReport
  change(doc)
  const path = join(dir.dir, name)
  writeFileSync(path, JSON.stringify(doc))
  return path
}

beforeAll(async () => {
  cli = buildCli()
  dir = tempDir('meshsig-audit-cli-')
  scene = await auditScene()
  const exported = await meshsig(['audit', '--json', '--server', scene.fx.url])
  expect(exported.code, exported.stderr).toBe(0)
  reportPath = join(dir.dir, 'report.json')
  writeFileSync(reportPath, exported.stdout)
  reportText = exported.stdout
}, 120_000)

afterAll(async () => {
  await scene?.stop()
  cli?.cleanup()
  dir?.cleanup()
})

describe('meshsig audit verify on an export of a real node', () => {
  it('the untouched export verifies: exit 0, nothing on stderr (no progress bar off a terminal)', async () => {
    const doc = JSON.parse(reportText) as AuditReport
    expect(doc.entries.length).toBeGreaterThan(30)
    const r = await meshsig(['audit', 'verify', reportPath])
    expect(r.code, r.stdout).toBe(0)
    expect(r.stdout).toMatch(/^✓ Audit export verified\n/)
    expect(r.stdout).toContain(`Entries:      ${doc.entries.length} (root ${doc.checkpoint.root})`)
    expect(r.stderr).toBe('')
    const json = await meshsig(['audit', 'verify', reportPath, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, problems: [], contentProblems: [] })
  })

  it('one changed byte in one entry: exit 1, names that entry', async () => {
    const doc = JSON.parse(reportText) as AuditReport
    const k = Math.floor(doc.entries.length / 2)
    const entryText = JSON.stringify(doc.entries[k])
    const at = reportText.indexOf(entryText)
    expect(at).toBeGreaterThan(0)
    // one byte of the entry's time: a digit replaced by another
    const digit = at + entryText.indexOf('"ts":') + 6
    const changed = String((Number(reportText[digit]) + 1) % 10)
    const path = join(dir.dir, 'altered.json')
    writeFileSync(path, reportText.slice(0, digit) + changed + reportText.slice(digit + 1))
    const r = await meshsig(['audit', 'verify', path])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^✗ Audit export does NOT verify \(exact diagnosis\)/)
    expect(r.stdout).toContain(`  - entry ${k}: content differs from what the checkpoint signed`)
    const json = JSON.parse((await meshsig(['audit', 'verify', path, '--json'])).stdout)
    expect(json.ok).toBe(false)
    expect(entryProblems(json.problems)).toEqual([['altered', k]])
    expect(json.problems.some((p: Problem) => p.kind === 'root-mismatch')).toBe(true)
  })

  it('one deleted entry: exit 1, names the missing entry', async () => {
    const k = 7
    const path = writeVariant('deleted.json', (doc) => void doc.entries.splice(k, 1))
    const r = await meshsig(['audit', 'verify', path])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`  - entry ${k}: signed but absent from the export`)
    const json = JSON.parse((await meshsig(['audit', 'verify', path, '--json'])).stdout)
    expect(entryProblems(json.problems)).toEqual([['missing', k]])
  })

  it('two swapped entries: exit 1, names both', async () => {
    const [i, j] = [4, 11]
    const path = writeVariant('swapped.json', (doc) => {
      const e = doc.entries
      ;[e[i], e[j]] = [e[j]!, e[i]!]
    })
    const r = await meshsig(['audit', 'verify', path])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`  - entry ${i}: out of order, found at position ${j}`)
    expect(r.stdout).toContain(`  - entry ${j}: out of order, found at position ${i}`)
    const json = JSON.parse((await meshsig(['audit', 'verify', path, '--json'])).stdout)
    expect(entryProblems(json.problems)).toEqual([
      ['reordered', i],
      ['reordered', j],
    ])
  })

  it('a file that is not an export is bad input: exit 2', async () => {
    const notJson = join(dir.dir, 'not.json')
    writeFileSync(notJson, 'hello')
    expect((await meshsig(['audit', 'verify', notJson])).code).toBe(2)
    expect((await meshsig(['audit', 'verify', join(dir.dir, 'missing.json')])).code).toBe(2)
    const noEntries = join(dir.dir, 'empty.json')
    writeFileSync(noEntries, '{}')
    const r = await meshsig(['audit', 'verify', noEntries, '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).code).toBe('MALFORMED')
    expect((await meshsig(['audit', 'verify'])).code).toBe(2)
    // a member written twice: JSON.parse keeps the last, so a reader would see what was not hashed (an attack review)
    const at = reportText.indexOf('{"index":0,')
    const shadowed = join(dir.dir, 'shadowed.json')
    writeFileSync(shadowed, reportText.slice(0, at) + '{"kind":"agent.revoked",' + reportText.slice(at + 1))
    const twice = await meshsig(['audit', 'verify', shadowed, '--json'])
    expect(twice.code).toBe(2)
    expect(JSON.parse(twice.stdout)).toMatchObject({ code: 'MALFORMED', error: expect.stringMatching(/"kind"/) })
    expect((await meshsig(['audit', 'nonsense'])).code).toBe(2)
    expect(readFileSync(reportPath, 'utf8')).toBe(reportText)
  })
})
