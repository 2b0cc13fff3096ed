/**
 * An independent implementation checks meshsig's checkpoint notes and
 * proofs (issue 11): a Go program built offline against Debian's
 * golang.org/x/mod (sumdb/note opens the note under the log's vkey,
 * sumdb/tlog checks the RFC 6962 inclusion and consistency proofs, and it
 * checks the witness's cosignature/v1 with crypto/ed25519 by its own code).
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { buildGoInterop } from '../helpers/go-build.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('C2SP notes and RFC 6962 proofs checked by Go x/mod sumdb', () => {
  let a: MeshNode, b: MeshNode
  const out = tempDir()
  let bin = ''

  beforeAll(async () => {
    bin = buildGoInterop('notecheck', out.dir)
    a = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
    b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    await waitFor(() => a.peers().length === 1, { timeout: 20_000 })
  }, 120_000)

  afterAll(async () => {
    await stopAll([a, b])
    out.cleanup()
  })

  const check = (input: unknown): { status: number | null; stdout: string } =>
    spawnSync(bin, [], { input: JSON.stringify(input), encoding: 'utf8' })

  it('Go verifies the log signature, the cosignature and both proofs; a changed root fails', async () => {
    await a.registerAgent('first')
    const first = await a.checkpoint()
    await a.registerAgent('second')
    const chk = await a.checkpoint()
    let note = ''
    await waitFor(() => (note = a.notes.note(chk)).split('\n— ').length === 3, { timeout: 15_000 })
    const input = {
      vkey: a.notes.vkeys().log,
      note,
      witnessVkeys: [b.notes.vkeys().witness],
      inclusion: a.audit.inclusion(Math.floor(chk.size / 2), chk.size),
      consistency: a.audit.consistency(first.size, chk.size),
    }
    const ok = check(input)
    expect(ok.stdout.trim()).toBe('ok')
    expect(ok.status).toBe(0)
    const lines = note.split('\n')
    lines[2] = first.root // another root under the same signatures
    expect(check({ ...input, note: lines.join('\n') }).status).toBe(1)
    const badProof = { ...input.consistency, proof: [...input.consistency.proof].reverse() }
    if (badProof.proof.length > 1) expect(check({ ...input, consistency: badProof }).status).toBe(1)
  }, 60_000)
})
