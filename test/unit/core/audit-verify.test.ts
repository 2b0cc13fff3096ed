import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAuditEntry, leafHashOfEntry, type AuditEntry } from '../../../node/core/audit-entry.js'
import type { AuditProblem } from '../../../node/core/audit-problems.js'
import { verifyAuditExport, type AuditVerdict } from '../../../node/core/audit-verify.js'
import { didFromPublicKey, didKeyFromPublicKey } from '../../../node/core/did.js'
import { toB64 } from '../../../node/core/encoding.js'
import { MalformedError } from '../../../node/core/errors.js'
import { createCheckpoint, createInception, createRotation } from '../../../node/core/factory.js'
import { replayKeyEvents } from '../../../node/core/kel.js'
import { keyPairFromSeed, type KeyPair } from '../../../node/core/keys.js'
import { merkleRoot } from '../../../node/core/merkle.js'

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const NODE = keyPairFromSeed(seed(1))
const OTHER = keyPairFromSeed(seed(2))
const NODE_DID = didFromPublicKey(NODE.publicKey)
const T0 = 1_764_000_000_000

function makeLog(n: number): AuditEntry[] {
  return Array.from({ length: n }, (_, i) =>
    createAuditEntry(i, {
      ts: T0 + i,
      kind: i % 3 === 0 ? 'envelope.accepted' : 'peer.joined',
      subject: i % 3 === 0 ? NODE_DID : null,
      envelopeId: i % 3 === 0 ? i.toString(16).padStart(64, '0') : null,
      code: null,
      data: i % 3 === 0 ? { type: 'msg', to: null, via: 'api' } : { peerId: `peer-${i}` },
    }),
  )
}

interface ExportOptions {
  key?: KeyPair
  origin?: string
  leafHashes?: boolean
  every?: number
}

function makeExport(entries: AuditEntry[], opts: ExportOptions = {}): Record<string, unknown> {
  const key = opts.key ?? NODE
  const origin = opts.origin ?? didFromPublicKey(key.publicKey)
  const hashes = entries.map(leafHashOfEntry)
  const checkpoint = createCheckpoint(origin, entries.length, merkleRoot(hashes), T0 + 10_000_000, key)
  const checkpoints = []
  for (let s = opts.every ?? 0; opts.every && s < entries.length; s += opts.every) {
    checkpoints.push(createCheckpoint(origin, s, merkleRoot(hashes.slice(0, s)), T0 + s, key))
  }
  return {
    format: 'meshsig-audit/1',
    summary: { ignored: true },
    entries,
    checkpoint,
    nodePublicKey: toB64(key.publicKey),
    ...(opts.leafHashes === false ? {} : { leafHashes: hashes.map((h) => toB64(h)) }),
    ...(checkpoints.length > 0 ? { checkpoints } : {}),
  }
}

/** The export with its entries replaced (leaf hashes and checkpoints untouched), as JSON would carry it. */
const tampered = (doc: Record<string, unknown>, entries: unknown[]): Record<string, unknown> =>
  JSON.parse(JSON.stringify({ ...doc, entries })) as Record<string, unknown>

const ENTRY_KINDS = new Set(['altered', 'missing', 'reordered', 'duplicated', 'renumbered', 'inserted'])
const entryProblems = (v: AuditVerdict): AuditProblem[] => v.problems.filter((p) => ENTRY_KINDS.has(p.kind))
const kinds = (v: AuditVerdict): string[] => v.problems.map((p) => p.kind)

describe('verifyAuditExport on an intact export', () => {
  it('accepts it, exactly with leaf hashes and structurally without', () => {
    const log = makeLog(50)
    const exact = verifyAuditExport(makeExport(log))
    expect(exact).toMatchObject({ ok: true, size: 50, diagnosis: 'exact', problems: [], omittedProblems: 0 })
    expect(exact.root).toBe(toB64(merkleRoot(log.map(leafHashOfEntry))))
    expect(exact.checkpoint).toMatchObject({ origin: NODE_DID, size: 50, trusted: true })
    const structural = verifyAuditExport(makeExport(log, { leafHashes: false, every: 7 }))
    expect(structural).toMatchObject({ ok: true, diagnosis: 'structural', problems: [] })
  })

  it('accepts the empty log', () => {
    expect(verifyAuditExport(makeExport([]))).toMatchObject({ ok: true, size: 0, problems: [] })
  })

  it('accepts the node key as did:key or did:msig', () => {
    const doc = makeExport(makeLog(5))
    expect(verifyAuditExport({ ...doc, nodePublicKey: didKeyFromPublicKey(NODE.publicKey) }).ok).toBe(true)
    expect(verifyAuditExport({ ...doc, nodePublicKey: NODE_DID }).ok).toBe(true)
  })

  it('reports progress up to the total', () => {
    const calls: [number, number][] = []
    verifyAuditExport(makeExport(makeLog(100)), { onProgress: (d, t) => calls.push([d, t]), progressInterval: 30 })
    expect(calls.at(-1)).toEqual([200, 200]) // 100 leaf hashes + 100 entries
    expect(calls.length).toBeGreaterThan(3)
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0])
  })
})

describe('verifyAuditExport names the tampered entries (exact diagnosis)', () => {
  const log = makeLog(40)
  const doc = makeExport(log)

  it('an altered entry', () => {
    const v = verifyAuditExport(
      tampered(
        doc,
        log.map((e) => (e.index === 17 ? { ...e, ts: 1 } : e)),
      ),
    )
    expect(v.ok).toBe(false)
    expect(entryProblems(v)).toEqual([expect.objectContaining({ kind: 'altered', index: 17, position: 17 })])
    expect(kinds(v)).toContain('root-mismatch')
  })

  it('a removed entry, with or without renumbering the rest', () => {
    const removed = log.filter((e) => e.index !== 9)
    expect(entryProblems(verifyAuditExport(tampered(doc, removed)))).toEqual([
      expect.objectContaining({ kind: 'missing', index: 9 }),
    ])
    const renumbered = removed.map((e, i) => ({ ...e, index: i }))
    const v = verifyAuditExport(tampered(doc, renumbered))
    expect(entryProblems(v)).toEqual([
      expect.objectContaining({ kind: 'missing', index: 9 }),
      expect.objectContaining({ kind: 'renumbered', index: 10, end: 40, position: 9 }),
    ])
    expect(kinds(v)).toContain('size-mismatch')
  })

  it('a removed block far larger than the search window, renumbered', () => {
    const big = makeLog(400)
    const cut = big.filter((e) => e.index < 100 || e.index >= 250).map((e, i) => ({ ...e, index: i }))
    const v = verifyAuditExport(tampered(makeExport(big), cut))
    expect(entryProblems(v)).toEqual([
      expect.objectContaining({ kind: 'missing', index: 100, end: 250 }),
      expect.objectContaining({ kind: 'renumbered', index: 250, end: 400, position: 100 }),
    ])
  })

  it('two swapped entries, with or without swapping their indexes', () => {
    const swapped = [...log]
    ;[swapped[5], swapped[30]] = [swapped[30]!, swapped[5]!]
    const v = verifyAuditExport(tampered(doc, swapped))
    expect(entryProblems(v)).toEqual([
      expect.objectContaining({ kind: 'reordered', index: 5, position: 30 }),
      expect.objectContaining({ kind: 'reordered', index: 30, position: 5 }),
    ])
    const relabelled = swapped.map((e, i) => ({ ...e, index: i }))
    const w = verifyAuditExport(tampered(doc, relabelled))
    expect(entryProblems(w).map((p) => [p.kind, p.index])).toEqual([
      ['reordered', 5],
      ['renumbered', 5],
      ['reordered', 30],
      ['renumbered', 30],
    ])
  })

  it('a duplicated entry and an inserted one', () => {
    const dup = [...log.slice(0, 12), log[11]!, ...log.slice(12)]
    expect(entryProblems(verifyAuditExport(tampered(doc, dup)))).toEqual([
      expect.objectContaining({ kind: 'duplicated', index: 11, position: 12 }),
    ])
    const extra = createAuditEntry(40, { ...log[0]!, data: { forged: true } })
    const v = verifyAuditExport(tampered(doc, [...log, extra]))
    expect(entryProblems(v)).toEqual([expect.objectContaining({ kind: 'inserted', position: 40 })])
  })

  it('a malformed entry', () => {
    const v = verifyAuditExport(
      tampered(
        doc,
        log.map((e) => (e.index === 3 ? { ...e, secret: 'x' } : e)),
      ),
    )
    expect(v.problems).toContainEqual(expect.objectContaining({ kind: 'malformed', position: 3 }))
    expect(entryProblems(v)).toEqual([expect.objectContaining({ kind: 'altered', index: 3 })])
  })

  it('any single tampering, on logs of any size (property)', () => {
    const op = fc.constantFrom('alter', 'remove', 'renumber', 'swap', 'duplicate')
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 80 }), op, fc.nat(), fc.nat(), (n, what, a, b) => {
        const entries = makeLog(n)
        const i = a % n
        const j = (i + 1 + (b % (n - 1))) % n
        const found = (list: unknown[]): AuditProblem[] =>
          entryProblems(verifyAuditExport(tampered(makeExport(entries), list)))
        const rest = entries.filter((e) => e.index !== i)
        if (what === 'alter') {
          const list = entries.map((e) => (e.index === i ? { ...e, code: 'REPLAY' } : e))
          expect(found(list)).toEqual([expect.objectContaining({ kind: 'altered', index: i })])
        } else if (what === 'remove') {
          expect(found(rest)).toEqual([expect.objectContaining({ kind: 'missing', index: i })])
        } else if (what === 'renumber') {
          const problems = found(rest.map((e, k) => ({ ...e, index: k })))
          expect(problems[0]).toMatchObject({ kind: 'missing', index: i })
          if (i < n - 1) expect(problems[1]).toMatchObject({ kind: 'renumbered', index: i + 1, position: i })
          expect(problems.length).toBe(i < n - 1 ? 2 : 1)
        } else if (what === 'swap') {
          const list = [...entries]
          ;[list[i], list[j]] = [list[j]!, list[i]!]
          const problems = found(list)
          expect(problems.length).toBeGreaterThan(0)
          for (const p of problems) expect(p.kind === 'reordered' && [i, j].includes(p.index!)).toBe(true)
        } else {
          const list = [...entries.slice(0, i + 1), entries[i]!, ...entries.slice(i + 1)]
          expect(found(list)).toEqual([expect.objectContaining({ kind: 'duplicated', index: i })])
        }
      }),
      { numRuns: 150 },
    )
  })
})

describe('verifyAuditExport without trustworthy leaf hashes (structural diagnosis)', () => {
  const log = makeLog(100)

  it('localises altered content between two signed checkpoints', () => {
    const doc = makeExport(log, { leafHashes: false, every: 10 })
    const v = verifyAuditExport(
      tampered(
        doc,
        log.map((e) => (e.index === 37 ? { ...e, ts: 5 } : e)),
      ),
    )
    expect(v.diagnosis).toBe('structural')
    expect(v.problems.map((p) => [p.kind, p.index, p.end])).toEqual([
      ['root-mismatch', undefined, undefined], // the whole log, against the main checkpoint
      ['root-mismatch', 30, 40], // the first signed prefix that fails: entries 30..39
    ])
    expect(entryProblems(v)).toEqual([])
  })

  it('says so when leaf hashes were rewritten along with an entry', () => {
    const doc = makeExport(log, { every: 25 })
    const altered = log.map((e) => (e.index === 60 ? { ...e, ts: 5 } : e))
    const hashes = altered.map((e) => toB64(leafHashOfEntry(e)))
    const v = verifyAuditExport({ ...tampered(doc, altered), leafHashes: hashes })
    expect(v.diagnosis).toBe('structural')
    expect(v.problems.map((p) => [p.kind, p.index, p.end])).toEqual([
      ['root-mismatch', undefined, undefined],
      ['root-mismatch', undefined, undefined],
      ['root-mismatch', 50, 75],
    ])
    expect(v.problems[0]!.message).toMatch(/leafHashes do not have the signed root/)
  })

  it('still names gaps, repeats and reorders from the index fields', () => {
    const doc = makeExport(log, { leafHashes: false })
    const list = [...log.slice(0, 20), ...log.slice(21, 50), log[48]!, log[70]!, ...log.slice(50, 70), ...log.slice(71)]
    const v = verifyAuditExport(tampered(doc, list))
    expect(entryProblems(v).map((p) => [p.kind, p.index])).toEqual([
      ['missing', 20],
      ['duplicated', 48],
      ['reordered', 70],
    ])
  })

  it('flags entries beyond the signed size', () => {
    const doc = makeExport(log.slice(0, 90), { leafHashes: false })
    const v = verifyAuditExport(tampered(doc, log))
    expect(v.problems).toContainEqual(expect.objectContaining({ kind: 'size-mismatch', index: 90, end: 100 }))
  })
})

describe('verifyAuditExport checks the checkpoint and the key', () => {
  const log = makeLog(10)

  it('refuses a checkpoint whose root or size was changed', () => {
    const doc = makeExport(log)
    const chk = doc.checkpoint as Record<string, unknown>
    const v = verifyAuditExport({ ...doc, checkpoint: { ...chk, size: 9 } })
    expect(v.ok).toBe(false)
    expect(kinds(v)).toContain('bad-signature')
    expect(v.diagnosis).toBe('structural')
  })

  it('refuses a checkpoint signed by another key, or whose origin is another DID', () => {
    const byOther = makeExport(log, { key: OTHER })
    expect(kinds(verifyAuditExport({ ...byOther, nodePublicKey: toB64(NODE.publicKey) }))).toEqual(['bad-signature'])
    const foreignOrigin = makeExport(log, { origin: NODE_DID, key: OTHER })
    expect(kinds(verifyAuditExport(foreignOrigin))).toEqual(['origin-mismatch'])
  })

  it('follows a key rotation through the node key event log', () => {
    const next = keyPairFromSeed(seed(3))
    const icp = createInception(NODE, T0, next)
    const rot = createRotation(replayKeyEvents([icp]), NODE, next, T0 + 1)
    const doc = makeExport(log, { key: next, origin: NODE_DID })
    expect(kinds(verifyAuditExport(doc))).toEqual(['origin-mismatch'])
    expect(verifyAuditExport({ ...doc, keyLog: [icp, rot] }).ok).toBe(true)
    const old = makeExport(log, { key: NODE })
    expect(verifyAuditExport({ ...old, keyLog: [icp, rot] }).problems[0]!.message).toMatch(/not the current key/)
    expect(verifyAuditExport({ ...doc, keyLog: [rot] }).problems[0]!.message).toMatch(/key event log/)
  })

  it('sizes nothing by a checkpoint size that does not verify: a verdict, no gap reported as signed', () => {
    const doc = makeExport(log, { leafHashes: false })
    const chk = doc.checkpoint as Record<string, unknown>
    for (const size of [2 ** 45, 1_000_000]) {
      const v = verifyAuditExport({ ...doc, entries: [], checkpoint: { ...chk, size } })
      expect(v.ok).toBe(false)
      expect(kinds(v)).toEqual(['bad-signature'])
    }
  })

  it('reports a signed size far past the entries as one missing range, in memory that follows the entries', () => {
    const signed = 2 ** 40 // what the log key signed; the export holds 10 entries
    const checkpoint = createCheckpoint(NODE_DID, signed, new Uint8Array(32), T0, NODE)
    const doc = { entries: log, checkpoint, nodePublicKey: toB64(NODE.publicKey) }
    const v = verifyAuditExport(doc)
    expect(v.ok).toBe(false)
    expect(entryProblems(v).map((p) => [p.kind, p.index, p.end])).toEqual([['missing', 10, signed]])
  })

  it('reports a missing or malformed checkpoint, key or leaf hash list', () => {
    const doc = makeExport(log)
    expect(kinds(verifyAuditExport({ ...doc, checkpoint: undefined }))).toEqual(['malformed'])
    expect(kinds(verifyAuditExport({ ...doc, nodePublicKey: 'nope' }))).toEqual(['malformed'])
    expect(verifyAuditExport({ ...doc, nodePublicKey: 'nope' }).ok).toBe(false)
    expect(kinds(verifyAuditExport({ ...doc, leafHashes: ['AAAA'] }))).toEqual(['malformed'])
    expect(kinds(verifyAuditExport({ ...doc, checkpoints: 'x' }))).toEqual(['malformed'])
  })

  it('throws MalformedError for input that is no export at all', () => {
    for (const input of [null, 'x', {}, { entries: 'x' }])
      expect(() => verifyAuditExport(input)).toThrow(MalformedError)
  })

  it('caps the number of problems', () => {
    const big = makeLog(60)
    const doc = makeExport(big)
    const every = big.map((e) => ({ ...e, data: { changed: e.index }, index: e.index }))
    const altered = verifyAuditExport(
      tampered(
        doc,
        every.filter((_, i) => i % 2 === 0),
      ),
      { maxProblems: 5 },
    )
    expect(altered.problems.length).toBe(5)
    expect(altered.omittedProblems).toBeGreaterThan(0)
  })
})
