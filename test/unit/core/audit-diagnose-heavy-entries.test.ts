// Attack review 125, M2: the exact diagnosis's search for renumbered entries is charged in bytes re-hashed, at most
// REHASH_BASE plus REHASH_FACTOR times the entries' bytes, however heavy the entries (decision 0089).
/**
 * The reviewer: the search allowed 200,000 re-hashes, each re-canonicalizing a
 * whole entry whose `data` may be 8,192 characters of ~900 keys; a forged
 * export (any key signs its own checkpoint) with N signed leaf hashes and two
 * such entries at a wrong index made `resolveRuns` scan every index: N = 100,000
 * (a 4.7 MB file) took 60 s in the CLI. Here the work is counted: entries
 * re-hashed and their bytes, not time.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'

const work = vi.hoisted(() => ({ hashes: 0, bytes: 0 }))
vi.mock('../../../node/core/audit-entry.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../../node/core/audit-entry.js')>()
  return {
    ...m,
    leafHashOfEntry: (...args: Parameters<typeof m.leafHashOfEntry>) => {
      work.hashes++
      work.bytes += m.auditEntryBytes(...args).length
      return m.leafHashOfEntry(...args)
    },
    auditEntryBytes: (...args: Parameters<typeof m.auditEntryBytes>) => {
      const bytes = m.auditEntryBytes(...args)
      work.hashes++
      work.bytes += bytes.length
      return bytes
    },
  }
})

import { REHASH_BASE, REHASH_FACTOR } from '../../../node/core/audit-diagnose.js'
import {
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  toB64,
  verifyAuditExport,
} from '../../../node/core/index.js'
import { merkleRoot } from '../../../node/core/merkle.js'

describe('the renumbering search does work bounded by the entries (review 125, M2)', () => {
  it('20,000 signed leaf hashes and two 8 KB entries at a wrong index: a bounded search, still exact', () => {
    const node = generateKeyPair()
    const did = didFromPublicKey(node.publicKey)
    const n = 20_000
    const leaves = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))
    const root = merkleRoot((i: number) => leaves[i]!, n)
    const data: Record<string, number> = {}
    for (let i = 0; i < 900; i++) data[`k${i.toString(36).padStart(3, '0')}`] = 0
    const entry = (index: number) => ({
      index,
      ts: 1,
      kind: 'peer.joined',
      subject: null,
      envelopeId: null,
      code: null,
      data,
    })
    const doc = {
      entries: [entry(0), entry(1)],
      leafHashes: leaves.map((l) => toB64(l)),
      checkpoint: createCheckpoint(did, n, root, 1, node),
      nodePublicKey: toB64(node.publicKey),
    }
    const entryBytes = JSON.stringify(entry(0)).length
    work.hashes = 0
    work.bytes = 0
    const verdict = verifyAuditExport(doc)
    expect(verdict.ok).toBe(false)
    expect(verdict.diagnosis).toBe('exact')
    // one entry's size of slack: the budget is checked before each try
    const bound = (REHASH_BASE as number) + (REHASH_FACTOR as number) * 2 * entryBytes + entryBytes
    expect(work.bytes).toBeLessThanOrEqual(bound)
    expect(work.hashes).toBeLessThan(1_100)
  }, 120_000)
})
