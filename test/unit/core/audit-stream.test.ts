/**
 * The core's streaming log verifier (`AuditStreamVerifier`) against the
 * whole-export verifier (`verifyAuditExport`) as the independent checker:
 * both accept the untouched log; an altered entry is named exactly by both;
 * a deleted, a swapped and a leaf-rewritten line are refused, with the
 * shift or the signed prefix that localises them; and the witness policy
 * file is read strictly.
 */
import { describe, expect, it } from 'vitest'
import { AuditStreamVerifier } from '../../../node/core/audit-stream.js'
import { parseWitnessPolicy } from '../../../node/core/audit-note.js'
import {
  MerkleAccumulator,
  createAuditEntry,
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  leafHashOfEntry,
  toB64,
  verifyAuditExport,
  type AuditEntry,
  type ChkEnvelope,
} from '../../../node/core/index.js'

interface Log {
  entries: AuditEntry[]
  leaves: string[]
  main: ChkEnvelope
  older: ChkEnvelope
  nodePublicKey: string
}

function makeLog(n: number): Log {
  const key = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const acc = new MerkleAccumulator()
  const entries: AuditEntry[] = []
  const leaves: string[] = []
  let older: ChkEnvelope | undefined
  for (let i = 0; i < n; i++) {
    const e = createAuditEntry(i, {
      ts: 1_764_000_000_000 + i,
      kind: 'peer.joined',
      subject: did,
      envelopeId: null,
      code: null,
      data: { peerId: `p${i}` },
    })
    entries.push(e)
    const h = leafHashOfEntry(e)
    leaves.push(toB64(h))
    acc.append(h)
    if (i + 1 === n / 2) older = createCheckpoint(did, i + 1, acc.root(), 1_764_000_000_000, key)
  }
  const main = createCheckpoint(did, n, acc.root(), 1_764_000_000_001, key)
  return { entries, leaves, main, older: older!, nodePublicKey: toB64(key.publicKey) }
}

/** Feed the log as the NDJSON export orders it, `edit` changing the lines first. */
function stream(log: Log, edit: (lines: Array<{ entry: unknown; leaf: string }>) => void = () => undefined) {
  const lines = log.entries.map((entry, i) => ({ entry: structuredClone(entry) as unknown, leaf: log.leaves[i]! }))
  edit(lines)
  const v = new AuditStreamVerifier()
  v.header({ checkpoint: log.main, nodePublicKey: log.nodePublicKey })
  lines.forEach((l, i) => {
    v.entry(l.entry, l.leaf)
    if (i + 1 === log.older.size) v.checkpoint(log.older)
  })
  return v.finish()
}

const log = makeLog(64)

describe('streaming audit verification', () => {
  it('accepts the untouched log, with the root the whole-export verifier computes', () => {
    const verdict = stream(log)
    const whole = verifyAuditExport({ entries: log.entries, checkpoint: log.main, nodePublicKey: log.nodePublicKey })
    expect(verdict).toMatchObject({ ok: true, size: 64, diagnosis: 'exact', problems: [] })
    expect(verdict.root).toBe(whole.root)
  })

  it('names an altered entry exactly, as the whole-export verifier does', () => {
    const verdict = stream(log, (lines) => {
      ;(lines[40]!.entry as { data: { peerId: string } }).data.peerId = 'changed'
    })
    const tampered = log.entries.map((e, i) => (i === 40 ? { ...e, data: { peerId: 'changed' } } : e))
    const whole = verifyAuditExport({
      entries: tampered,
      leafHashes: log.leaves,
      checkpoint: log.main,
      nodePublicKey: log.nodePublicKey,
    })
    expect(verdict.ok).toBe(false)
    expect(verdict.problems.filter((p) => p.kind === 'altered').map((p) => p.index)).toEqual([40])
    expect(whole.problems.filter((p) => p.kind === 'altered').map((p) => p.index)).toEqual([40])
  })

  it('refuses a deleted line and says where the indexes shift', () => {
    const verdict = stream(log, (lines) => void lines.splice(10, 1))
    expect(verdict.ok).toBe(false)
    const shift = verdict.problems.find((p) => p.kind === 'renumbered')
    expect(shift).toMatchObject({ position: 10, index: 11 })
    expect(verdict.problems.filter((p) => p.kind === 'renumbered')).toHaveLength(1)
  })

  it('refuses swapped lines and a rewritten leaf, localised by the older signed checkpoint', () => {
    const swapped = stream(log, (lines) => void ([lines[3], lines[4]] = [lines[4]!, lines[3]!]))
    expect(swapped.ok).toBe(false)
    expect(swapped.problems.filter((p) => p.kind === 'renumbered').map((p) => p.position)).toContain(3)

    const rewritten = stream(log, (lines) => {
      const e = lines[5]!.entry as AuditEntry
      const changed = { ...e, data: { peerId: 'forged' } }
      lines[5] = { entry: changed, leaf: toB64(leafHashOfEntry(changed)) }
    })
    expect(rewritten.ok).toBe(false)
    expect(rewritten.diagnosis).toBe('structural')
    expect(rewritten.problems.find((p) => p.kind === 'root-mismatch' && p.end === 32)).toBeDefined()
  })

  it('reads a witness policy strictly', () => {
    const key = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    const vkey = `${did}/witness+00000000+${toB64(new Uint8Array([4, ...key.publicKey]))}`
    expect(() => parseWitnessPolicy(`witness ${vkey}\n`)).toThrow(/key ID/)
    expect(() => parseWitnessPolicy('quorum two\n')).toThrow(/policy line 1/)
    expect(parseWitnessPolicy('# none\nquorum 0\n')).toEqual({ keys: [], quorum: 0 })
  })
})
