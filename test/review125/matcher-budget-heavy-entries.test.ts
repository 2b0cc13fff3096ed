/**
 * Review 125: the exact diagnosis searches for renumbered entries within a
 * budget of 200,000 re-hashes (audit-diagnose.ts EntryMatcher), but a
 * re-hash re-canonicalizes the whole entry, and an entry's `data` may be
 * 8,192 characters of ~900 keys to sort. A forged JSON export (any key signs
 * its own checkpoint: the file is the attacker's) with N signed leaf hashes and
 * two such entries at a wrong index makes `resolveRuns` scan every index:
 * N re-canonicalizations of 8 KB. N = 200,000 (a 9.4 MB file) took 101 s of
 * CPU here; N = 20,000 (a 1 MB file) takes seconds. The budget must bound the
 * work (bytes hashed), not the count of re-hashes.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createCheckpoint, didFromPublicKey, generateKeyPair, toB64, verifyAuditExport } from '../../node/core/index.js'
import { merkleRoot } from '../../node/core/merkle.js'

describe('review 125: exact-mode matcher budget and heavy entries', () => {
  it('a 1 MB export with 20,000 leaf hashes and two 8 KB entries verifies in well under 2 s', () => {
    const node = generateKeyPair()
    const did = didFromPublicKey(node.publicKey)
    const n = 20_000
    const leaves = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))
    const root = merkleRoot((i: number) => leaves[i]!, n)
    const data: Record<string, number> = {}
    for (let i = 0; i < 900; i++) data[`k${i.toString(36).padStart(3, '0')}`] = 0
    const entry = (index: number) => ({ index, ts: 1, kind: 'peer.joined', subject: null, envelopeId: null, code: null, data })
    const doc = {
      entries: [entry(0), entry(1)],
      leafHashes: leaves.map((l) => toB64(l)),
      checkpoint: createCheckpoint(did, n, root, 1, node),
      nodePublicKey: toB64(node.publicKey),
    }
    console.log('file bytes', JSON.stringify(doc).length)
    const t0 = performance.now()
    const verdict = verifyAuditExport(doc)
    const ms = performance.now() - t0
    console.log('verifyAuditExport ms', Math.round(ms), verdict.diagnosis)
    expect(verdict.ok).toBe(false)
    expect(verdict.diagnosis).toBe('exact')
    expect(ms).toBeLessThan(2000)
  }, 120_000)
})
