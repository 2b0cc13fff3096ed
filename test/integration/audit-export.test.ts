/**
 * The audit export of a real node after real traffic (SPEC §5): every
 * section the issue asks for, verifiable offline as a whole, and every
 * stored message re-verifiable from its envelope alone, with the key its
 * signer's key event log held when the node accepted it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  envelopeId,
  fromB64,
  publicKeyFromDid,
  toB64,
  verifyAuditExport,
  verifyEnvelopeSignature,
  type AuditEntry,
  type KeyEvent,
} from '../../node/core/index.js'
import type { AuditReport } from '../../node/services/report-service.js'
import { expectNo500 } from '../api/api-fixture.js'
import { auditScene, type AuditScene } from './audit-fixture.js'

let scene: AuditScene
let report: AuditReport
let text: string

beforeAll(async () => {
  scene = await auditScene()
  const r = await scene.fx.call('GET', '/audit/export')
  expect(r.status).toBe(200)
  report = r.body as AuditReport
  text = r.text
}, 60_000)

afterAll(async () => {
  expectNo500(scene?.fx)
  await scene?.stop()
})

/** The key `did` signed with at log position `at`, by the log's own key.rotated entries and the key event log. */
function keyAt(did: string, at: number, entries: readonly AuditEntry[], kel: readonly KeyEvent[]): string {
  let seq = 0
  for (const e of entries.slice(0, at)) {
    if (e.kind === 'key.rotated' && e.subject === did) seq = (e.data as { seq: number }).seq
  }
  const event = kel.find((k) => k.did === did && k.seq === seq)
  if (event === undefined) return toB64(publicKeyFromDid(did)) // no log known: the DID names its key
  expect(event.type).not.toBe('rev')
  return (event as { key: string }).key
}

describe('GET /audit/export', () => {
  it('holds summary, agents, connections, messages, key events, revocations, entries, checkpoint and node key', () => {
    for (const field of ['summary', 'agents', 'connections', 'messages', 'keyEvents', 'revoked', 'trust']) {
      expect(report, field).toHaveProperty(field)
    }
    for (const field of ['entries', 'leafHashes', 'checkpoint', 'checkpoints', 'nodePublicKey', 'keyLog']) {
      expect(report, field).toHaveProperty(field)
    }
    expect(report.nodePublicKey).toBe(report.node.publicKey)
    expect(report.summary.auditEntries).toBe(report.entries.length)
    expect(report.checkpoint.size).toBe(report.entries.length)
    expect(report.checkpoints.length).toBeGreaterThanOrEqual(1) // the on-demand one, before more traffic
    expect(report.revoked.map((r) => r.did)).toHaveLength(1)
    expect(report.connections[0]?.trust?.score).toBeGreaterThan(0.5)
    const kinds = new Set(report.entries.map((e) => e.kind))
    for (const kind of ['envelope.accepted', 'envelope.rejected', 'agent.registered', 'key.rotated', 'agent.revoked']) {
      expect(kinds.has(kind as AuditEntry['kind']), kind).toBe(true)
    }
    expect(kinds.has('handshake') && kinds.has('checkpoint') && kinds.has('peer.joined')).toBe(true)
  })

  it('verifies offline as a whole: the log, every message and every trust score', () => {
    expect(verifyAuditExport(report).problems).toEqual([])
    const check = checkAuditExport(JSON.parse(text))
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
    expect(check.messagesChecked).toBe(report.messages.length)
    expect(check.scoresChecked).toBeGreaterThan(report.agents.length)
  })

  it('lists messages with from, to, time, signature and verification, and holds no private key', () => {
    expect(report.messages.length).toBe(report.summary.totalMessages)
    for (const m of report.messages) {
      expect(m).toMatchObject({ from: expect.any(String), ts: expect.any(Number), timestamp: expect.any(String) })
      expect(m.signature).toBe(m.envelope.sig)
      expect(m.verification).toMatchObject({ status: 'verified', auditIndex: expect.any(Number) })
    }
    expect(text).not.toMatch(/privateKey|"seed"|nextPrivateKey/)
    expect(text).not.toContain(toB64(scene.carol.key.seed))
  })

  it('re-verifies every stored message from its envelope, under the key current when it was accepted', () => {
    const seqsOfBob = new Set<number>()
    for (const m of report.messages) {
      const entry = report.entries[m.verification.auditIndex!]!
      expect(entry).toMatchObject({ kind: 'envelope.accepted', envelopeId: m.id, subject: m.from })
      expect(envelopeId(m.envelope)).toBe(m.id)
      const key = keyAt(m.from, entry.index, report.entries, report.keyEvents)
      expect(m.verification.publicKey).toBe(key)
      expect(() => verifyEnvelopeSignature(m.envelope, fromB64(key, 'key', 32))).not.toThrow()
      if (m.from === scene.bob) seqsOfBob.add(m.verification.keySeq!)
    }
    // bob rotated: his earlier messages still verify, under the key he had then
    expect([...seqsOfBob].sort()).toEqual([0, 1])
    // dave's message came from the other node, delivered directly to alice's (docs/protocol.md §10)
    expect(report.messages.some((m) => m.from === scene.dave && m.source === 'deliver')).toBe(true)
  })

  it('a message whose stored envelope was changed no longer re-verifies, and says which', () => {
    const doc = JSON.parse(text) as AuditReport
    const m = doc.messages[1]!
    ;(m.envelope as { body: string }).body += '!'
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(check.log.ok).toBe(true) // the log itself is intact
    expect(check.problems.map((p) => p.subject)).toEqual([m.id])
  })
})
