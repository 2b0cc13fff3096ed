/**
 * `meshsig audit verify FILE --witnesses K` (docs/audit.md) on exports of a
 * real node whose two mesh peers witness its checkpoints: both forms (JSON
 * and NDJSON) carry the note with two cosignatures, the log's vkeys and
 * binding, and the witnesses' vkeys and bindings. K = 2 passes with the
 * witnesses the export lists, with the auditor's own `--witness-key`s and
 * with a policy file; K = 3 fails; keys the auditor does not know count for
 * nothing; a cosignature altered in the file is caught; an export whose note
 * is another checkpoint's is refused. The CLI runs as a real process.
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeVkey } from '../../node/core/note.js'
import { bindingVerifiers, createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let cli: BuiltCli
let fx: ApiFixture
let b: MeshNode, c: MeshNode
const dir = tempDir()
const jsonFile = join(dir.dir, 'audit.json')
const ndjsonFile = join(dir.dir, 'audit.ndjson')

function meshsig(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli.main, ...args],
      { env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: join(dir.dir, 'home') }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    )
  })
}

const witnessVkey = (n: MeshNode): string => encodeVkey(bindingVerifiers(n.witness.binding()).witness)

describe('audit verify --witnesses', () => {
  beforeAll(async () => {
    cli = buildCli()
    fx = await startApi({}, {}, { init: { checkpointIntervalMs: 3_600_000 } })
    const a = fx.node
    b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    c = await startNode({ peers: [a.info().multiaddrs[0]!, b.info().multiaddrs[0]!] })
    await waitFor(() => a.peers().length === 2, { timeout: 20_000 })
    await a.registerAgent('audited')
    const chk = await a.checkpoint()
    await waitFor(() => a.notes.note(chk).split('\n— ').length === 4, { timeout: 20_000 })
    const res = await fetch(`${fx.url}/audit/export?size=${chk.size}`)
    writeFileSync(jsonFile, await res.text())
    const nd = await meshsig(['audit', '--ndjson', '--out', ndjsonFile, '--size', String(chk.size), '--server', fx.url])
    expect(nd.code).toBe(0)
  }, 120_000)

  afterAll(async () => {
    await stopAll([b, c, fx?.node])
    cli?.cleanup()
    dir.cleanup()
  })

  it('both forms carry the note, the log keys and the two witnesses', () => {
    const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>
    const header = JSON.parse(readFileSync(ndjsonFile, 'utf8').split('\n')[0]!) as Record<string, unknown>
    for (const d of [doc, header]) {
      expect(d.note).toMatch(/^did:msig:\S+\n\d+\n\S+\n\n— /)
      expect(d.logKeys).toMatchObject({ log: expect.stringMatching(/^did:msig:/), witness: expect.any(String) })
      const listed = (d.witnesses as Array<{ vkey: string }>).map((w) => w.vkey).sort()
      expect(listed).toEqual([witnessVkey(b), witnessVkey(c)].sort())
    }
  })

  it('K = 2 passes from the export, from --witness-key and from a policy file; K = 3 does not', async () => {
    for (const file of [jsonFile, ndjsonFile]) {
      const listed = await meshsig(['audit', 'verify', file, '--witnesses', '2', '--json'])
      expect(listed.code).toBe(0)
      expect(JSON.parse(listed.stdout).note).toMatchObject({ ok: true, keysFrom: 'export', logSigned: true })
      const keys = ['--witness-key', witnessVkey(b), '--witness-key', witnessVkey(c)]
      const own = await meshsig(['audit', 'verify', file, ...keys, '--witnesses', '2', '--json'])
      expect(own.code).toBe(0)
      expect(JSON.parse(own.stdout).note.cosigners).toHaveLength(2)
      const three = await meshsig(['audit', 'verify', file, '--witnesses', '3'])
      expect(three.code).toBe(1)
      expect(three.stdout).toMatch(/2 of the 3 cosignatures required/)
    }
    const policy = join(dir.dir, 'policy.txt')
    writeFileSync(policy, `# our witnesses\nwitness ${witnessVkey(b)}\nwitness ${witnessVkey(c)}\nquorum 2\n`)
    expect((await meshsig(['audit', 'verify', ndjsonFile, '--policy', policy])).code).toBe(0)
  }, 60_000)

  it('one witness key given twice, or by the flag and the policy both, is one cosigner (an attack review)', async () => {
    const twice = ['--witness-key', witnessVkey(b), '--witness-key', witnessVkey(b), '--witnesses', '2', '--json']
    const r = await meshsig(['audit', 'verify', jsonFile, ...twice])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).note).toMatchObject({ ok: false, cosigners: [expect.anything()] })
    const policy = join(dir.dir, 'policy-b.txt')
    writeFileSync(policy, `witness ${witnessVkey(b)}\nquorum 2\n`)
    const both = await meshsig(['audit', 'verify', ndjsonFile, '--policy', policy, '--witness-key', witnessVkey(b)])
    expect(both.code).toBe(1)
    expect(both.stdout).toMatch(/1 of the 2 cosignatures required/)
  }, 60_000)

  it('keys the auditor does not know count for nothing; a changed cosignature or another note is caught', async () => {
    const stranger = generateKeyPair()
    const did = didFromPublicKey(stranger.publicKey)
    const binding = createLogKeyBinding(did, generateKeyPair().publicKey, generateKeyPair().publicKey, 1, stranger)
    const strangerKey = encodeVkey(bindingVerifiers(binding).witness)
    const unknown = await meshsig(['audit', 'verify', jsonFile, '--witness-key', strangerKey, '--witnesses', '1'])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toMatch(/0 of the 1 cosignatures required/)

    const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as { note: string; checkpoint: { size: number } }
    const lines = doc.note.split('\n')
    const last = lines.length - 2 // the last cosignature line (the note ends in a newline)
    lines[last] = lines[last]!.slice(0, -6) + (lines[last]!.slice(-6, -5) === 'A' ? 'B' : 'A') + lines[last]!.slice(-5)
    const tampered = join(dir.dir, 'tampered.json')
    writeFileSync(tampered, JSON.stringify({ ...doc, note: lines.join('\n') }))
    const bad = await meshsig(['audit', 'verify', tampered, '--witnesses', '2'])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/cosignature of did:msig:\S+\/witness does not verify/)

    const later = await fx.node.checkpoint() // a later checkpoint: its note is not the export's
    const older = fx.node.notes.note(later)
    const other = join(dir.dir, 'other-note.json')
    writeFileSync(other, JSON.stringify({ ...doc, note: older }))
    expect(later.size).toBeGreaterThan(doc.checkpoint.size)
    const wrong = await meshsig(['audit', 'verify', other])
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toMatch(/the note is not the checkpoint of the export/)
  }, 60_000)

  it('an export stripped of its note and witnesses says no cosignature was checked, and fails --witnesses', async () => {
    const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>
    const { note: _note, witnesses: _witnesses, ...stripped } = doc
    const file = join(dir.dir, 'stripped.json')
    writeFileSync(file, JSON.stringify(stripped))
    const plain = await meshsig(['audit', 'verify', file])
    expect(plain.code).toBe(0) // the log itself still checks out
    expect(plain.stdout).toMatch(/Cosignatures:\s+none checked: the export carries no checkpoint note/)
    expect(JSON.parse((await meshsig(['audit', 'verify', file, '--json'])).stdout).note).toBeNull()
    const required = await meshsig(['audit', 'verify', file, '--witnesses', '1'])
    expect(required.code).toBe(1)
  }, 60_000)
})
