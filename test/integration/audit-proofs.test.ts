/**
 * RFC 9162 inclusion and consistency proofs from the API of a real node,
 * checked against a naive recursive MTH / PATH / PROOF written here from the
 * RFC's definitions (§2.1.1, §2.1.3.1, §2.1.4.1), over leaf hashes computed
 * here too: SHA-256(0x00 || JCS(entry)) with a JCS for the entries' plain JSON.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SubtreeRoots } from '../../node/audit/merkle-proofs.js'
import {
  consistencyProof,
  fromB64,
  inclusionProof,
  merkleRoot,
  verifyConsistency,
  verifyEnvelopeSignature,
  verifyInclusion,
  type AuditEntry,
} from '../../node/core/index.js'
import type { AuditReport } from '../../node/services/report-service.js'
import { expectNo500 } from '../api/api-fixture.js'
import { auditScene, sendMany, type AuditScene } from './audit-fixture.js'

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest()

/** JCS (RFC 8785) for what entries hold: objects, arrays, strings, integers, booleans, null. */
function jcs(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort() // UTF-16 code unit order
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

const leafHash = (e: AuditEntry): Buffer => sha256(Buffer.from([0]), Buffer.from(jcs(e), 'utf8'))

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** MTH(D[n]) over leaf hashes (§2.1.1). */
function mth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha256(Buffer.alloc(0))
  if (d.length === 1) return d[0]!
  const k = split(d.length)
  return sha256(Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k)))
}

/** PATH(m, D[n]) (§2.1.3.1). */
function path(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return []
  const k = split(d.length)
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))]
}

/** SUBPROOF(m, D[n], b) (§2.1.4.1). */
function subproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)]
  const k = split(d.length)
  return m <= k
    ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))]
}

const b64 = (bufs: readonly Buffer[]): string[] => bufs.map((x) => x.toString('base64'))

let scene: AuditScene
let report: AuditReport
let leaves: Buffer[]

beforeAll(async () => {
  scene = await auditScene()
  await sendMany(scene.fx, scene.alice, scene.bob, 40) // deeper trees: more than 64 entries
  await scene.fx.call('POST', '/audit/checkpoint')
  await sendMany(scene.fx, scene.bob, scene.alice, 3)
  report = (await scene.fx.call('GET', '/audit/export')).body as AuditReport
  leaves = report.entries.map(leafHash)
}, 60_000)

afterAll(async () => {
  expectNo500(scene?.fx)
  await scene?.stop()
})

/** Tree sizes to check: small ones, powers of two and their neighbours, the signed ones. */
function sizes(n: number): number[] {
  const set = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, n - 1, n])
  for (const c of report.checkpoints) set.add(c.size)
  return [...set].filter((s) => s >= 1 && s <= n).sort((a, b) => a - b)
}

describe('the naive RFC 9162 reference agrees with the node', () => {
  it('leaf hashes and the signed roots', () => {
    expect(report.entries.length).toBeGreaterThan(65)
    expect(report.checkpoints.length).toBeGreaterThanOrEqual(2)
    expect(b64(leaves)).toEqual(report.leafHashes)
    expect(mth(leaves).toString('base64')).toBe(report.checkpoint.root)
    expect(() => verifyEnvelopeSignature(report.checkpoint, fromB64(report.nodePublicKey, 'key', 32))).not.toThrow()
    for (const c of report.checkpoints) expect(mth(leaves.slice(0, c.size)).toString('base64')).toBe(c.root)
  })
})

describe('GET /audit/proof/:index', () => {
  it('by default proves inclusion in the current checkpoint, with the entry and the signed checkpoint', async () => {
    const n = report.checkpoint.size
    for (let i = 0; i < n; i++) {
      const r = await scene.client.auditProof(i)
      expect(r).toMatchObject({ index: i, size: n, root: report.checkpoint.root, entry: report.entries[i] })
      expect(r.checkpoint).toEqual(report.checkpoint)
      expect(r.leafHash).toBe(leaves[i]!.toString('base64'))
      expect(r.proof).toEqual(b64(path(i, leaves.slice(0, n))))
    }
  })

  it('equals PATH(m, D[n]) for every leaf of trees of many sizes, and verifies by §2.1.3.2', async () => {
    for (const n of sizes(report.checkpoint.size)) {
      const d = leaves.slice(0, n)
      const root = mth(d)
      for (let m = 0; m < n; m++) {
        const r = await scene.client.auditProof(m, n)
        expect(r.root).toBe(root.toString('base64'))
        expect(r.proof, `PATH(${m}, D[${n}])`).toEqual(b64(path(m, d)))
        expect(
          verifyInclusion(
            d[m]!,
            m,
            n,
            r.proof.map((p) => fromB64(p)),
            root,
          ),
        ).toBe(true)
      }
    }
  })

  it('refuses what is not in the tree', async () => {
    const n = report.checkpoint.size
    expect((await scene.fx.call('GET', `/audit/proof/${n + 1000}`)).body.code).toBe('NOT_FOUND')
    expect((await scene.fx.call('GET', `/audit/proof/3?size=3`)).status).toBe(404)
    expect((await scene.fx.call('GET', `/audit/proof/0?size=99999999`)).body.code).toBe('INVALID_INPUT')
    expect((await scene.fx.call('GET', '/audit/proof/abc')).status).toBe(400)
    expect((await scene.fx.call('GET', '/audit/proof/1?size=2&x=1')).status).toBe(400)
  })
})

describe('GET /audit/consistency', () => {
  it('equals PROOF(m, D[n]) for every pair of many sizes, and verifies by §2.1.4.2', async () => {
    const all = sizes(report.checkpoint.size)
    for (const n of all) {
      const d = leaves.slice(0, n)
      for (let m = 1; m <= n; m++) {
        const r = await scene.client.auditConsistency(m, n)
        expect(r.firstRoot).toBe(mth(d.slice(0, m)).toString('base64'))
        expect(r.secondRoot).toBe(mth(d).toString('base64'))
        expect(r.proof, `PROOF(${m}, D[${n}])`).toEqual(b64(subproof(m, d, true)))
        const ok = verifyConsistency(
          m,
          n,
          r.proof.map((p) => fromB64(p)),
          fromB64(r.firstRoot),
          fromB64(r.secondRoot),
        )
        expect(ok).toBe(true)
      }
    }
  })

  it("links the on-demand checkpoint to the export's one, both signed", async () => {
    const old = report.checkpoints[0]!
    // the export's size, named: the log goes on growing meanwhile (peer events, checkpoints)
    const r = await scene.client.auditConsistency(old.size, report.checkpoint.size)
    expect(r.second).toBe(report.checkpoint.size)
    expect(r.firstCheckpoint).toEqual(old)
    expect(r.secondCheckpoint).toEqual(report.checkpoint)
    expect(r.firstRoot).toBe(old.root)
    expect(r.secondRoot).toBe(report.checkpoint.root)
    const path = r.proof.map((p) => fromB64(p))
    expect(verifyConsistency(old.size, r.second, path, fromB64(old.root), fromB64(r.secondRoot))).toBe(true)
  })

  it('refuses sizes out of order or beyond the log', async () => {
    expect((await scene.fx.call('GET', '/audit/consistency?first=5&second=3')).body.code).toBe('INVALID_INPUT')
    expect((await scene.fx.call('GET', '/audit/consistency?first=1&second=99999999')).status).toBe(400)
    expect((await scene.fx.call('GET', '/audit/consistency')).status).toBe(400)
    expect((await scene.fx.call('GET', '/audit/consistency?first=-1')).status).toBe(400)
  })
})

describe('the memoised roots behind the endpoints, on trees past the memo threshold', () => {
  it('give the same roots and proofs as the core and the naive reference, warm or cold', () => {
    const leaves = Array.from({ length: 1300 }, (_, i) => sha256(Buffer.from(`leaf ${i}`)))
    const warm = new SubtreeRoots((i) => leaves[i]!)
    for (const n of [255, 256, 257, 511, 512, 513, 1024, 1025, 1299, 1300]) {
      const cold = new SubtreeRoots((i) => leaves[i]!)
      const d = leaves.slice(0, n)
      expect(Buffer.from(warm.root(0, n))).toEqual(mth(d))
      expect(Buffer.from(cold.root(0, n))).toEqual(Buffer.from(merkleRoot(d)))
      for (const m of [0, 1, 255, 256, Math.floor(n / 2), n - 1].filter((x) => x < n)) {
        expect(b64(warm.inclusion(m, n).map((x) => Buffer.from(x)))).toEqual(b64(path(m, d)))
        expect(b64(cold.inclusion(m, n).map((x) => Buffer.from(x)))).toEqual(
          b64(inclusionProof(m, n, d).map((x) => Buffer.from(x))),
        )
      }
      for (const m of [1, 100, 256, 300, 512, n - 1, n].filter((x) => x <= n)) {
        expect(b64(warm.consistency(m, n).map((x) => Buffer.from(x)))).toEqual(b64(subproof(m, d, true)))
        expect(b64(cold.consistency(m, n).map((x) => Buffer.from(x)))).toEqual(
          b64(consistencyProof(m, n, d).map((x) => Buffer.from(x))),
        )
      }
    }
  })
})
