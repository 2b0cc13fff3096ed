/**
 * meshsig's RFC 9162 proof verifiers and generators held to an independent
 * implementation, Go's golang.org/x/mod/sumdb/tlog, on 4 000 random cases
 * over trees of 1 to 300 leaves (test/interop/tlogcases, built offline):
 * valid proofs, and proofs with a bit flipped, the last hash dropped, a
 * hash appended, two hashes swapped, or a wrong index; consistency from
 * every kind of size, the tree's own size included. `verifyInclusion` and
 * `verifyConsistency` must reach Go's verdict on every case, and
 * `inclusionProof` and `consistencyProof` regenerate every valid proof byte
 * for byte. (test/integration/audit-go-interop.test.ts has Go check a live
 * node's note and proofs; this one checks meshsig's own verifiers.)
 */
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import {
  consistencyProof,
  fromB64,
  inclusionProof,
  toB64,
  verifyConsistency,
  verifyInclusion,
} from '../../node/core/index.js'
import { buildGoInterop } from '../helpers/go-build.js'
import { tempDir } from '../helpers/mesh.js'

/** One case as test/interop/tlogcases prints it (Go leaves out zero-valued numbers). */
interface TlogCase {
  readonly kind: 'inclusion' | 'consistency'
  readonly index?: number
  readonly size: number
  readonly first?: number
  readonly leaf?: string
  readonly root: string
  readonly old?: string
  readonly proof: string[]
  readonly goOk: boolean
  readonly mutate: string
}

const out = tempDir('meshsig-tlogcases-')
afterAll(() => out.cleanup())

/** The leaves of the tree and the cases, from the Go program. */
function goCases(): { leaves: Uint8Array[]; cases: TlogCase[] } {
  const run = spawnSync(buildGoInterop('tlogcases', out.dir), [], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (run.status !== 0) throw new Error(`tlogcases failed: ${run.stderr}`)
  const [first, ...rest] = run.stdout.trim().split('\n')
  const leaves = (JSON.parse(first!) as { leaves: string[] }).leaves.map((h) => fromB64(h, 'leaf', 32))
  return { leaves, cases: rest.map((l) => JSON.parse(l) as TlogCase) }
}

const hash = (b64: string | undefined): Uint8Array => fromB64(b64 ?? '', 'hash', 32)

function verdict(c: TlogCase): boolean {
  const proof = c.proof.map(hash)
  return c.kind === 'inclusion'
    ? verifyInclusion(hash(c.leaf), c.index ?? 0, c.size, proof, hash(c.root))
    : verifyConsistency(c.first ?? 0, c.size, proof, hash(c.old), hash(c.root))
}

function regenerated(c: TlogCase, leaves: readonly Uint8Array[]): string[] {
  const proof =
    c.kind === 'inclusion'
      ? inclusionProof(c.index ?? 0, c.size, leaves)
      : consistencyProof(c.first ?? 0, c.size, leaves)
  return proof.map((h) => toB64(h))
}

describe('Merkle proofs against Go sumdb/tlog', () => {
  it('reach Go’s verdict on every case, and regenerate every valid proof', () => {
    const { leaves, cases } = goCases()
    expect(cases).toHaveLength(4000)
    const disagree = cases.filter((c) => verdict(c) !== c.goOk)
    expect(disagree.slice(0, 5)).toEqual([])
    const valid = cases.filter((c) => c.mutate === 'none' && c.goOk)
    expect(valid.length).toBeGreaterThan(500)
    expect(cases.some((c) => !c.goOk)).toBe(true)
    for (const c of valid) expect(regenerated(c, leaves)).toEqual(c.proof)
  }, 120_000)
})
