/**
 * Audit exports built by hand the way an operator who holds the node's keys
 * can build them (the node key signs `chk`): a list of entries, their leaf
 * hashes, the checkpoint of exactly their size, and trust rows equal to the
 * replay of the entries. For tests of what `meshsig audit verify` makes of an
 * export whose log verifies (docs/audit.md, "Verifying an export").
 */
import {
  collectTrustEvidence,
  createAuditEntry,
  createCheckpoint,
  didFromPublicKey,
  generateKeyPair,
  leafHashOfEntry,
  merkleRoot,
  toB64,
  trustScore,
  TRUST_FORMULA,
  type AuditEntry,
  type AuditEntryInit,
  type KeyPair,
} from '../../node/core/index.js'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import type { ExportCheck } from '../../node/audit/export-check.js'

/** A signed synthetic export and the node key that signed it. */
export interface SyntheticExport {
  readonly doc: Record<string, unknown> & { entries: AuditEntry[]; leafHashes: string[] }
  readonly node: KeyPair
  readonly nodeDid: string
}

/** An export of `inits` (indexed in order) signed by `node`, with `extra` top-level fields. */
export function syntheticExport(
  inits: readonly AuditEntryInit[],
  extra: Record<string, unknown> = {},
  node: KeyPair = generateKeyPair(),
  ts = Date.now(),
): SyntheticExport {
  const nodeDid = didFromPublicKey(node.publicKey)
  const entries = inits.map((init, i) => createAuditEntry(i, init))
  const leaves = entries.map((e) => leafHashOfEntry(e))
  const checkpoint = createCheckpoint(nodeDid, entries.length, merkleRoot(leaves), ts, node)
  const doc = {
    entries,
    leafHashes: leaves.map((h) => toB64(h)),
    checkpoint,
    checkpoints: [],
    nodePublicKey: toB64(node.publicKey),
    ...extra,
  }
  return { doc, node, nodeDid }
}

/** An export of one `peer.joined` entry a minute old, its checkpoint a second after it: the least a check reads. */
export function onePeerJoinedExport(): SyntheticExport {
  const ts = Date.now() - 60_000
  const init = { ts, kind: 'peer.joined' as const, subject: null, envelopeId: null, code: null, data: { peerId: 'x' } }
  return syntheticExport([init], {}, undefined, ts + 1000)
}

/** `{"a":{"a":…1…}}`, `n` objects deep, parsed (JSON.parse does not recurse on the stack). */
export const nestedObject = (n: number): unknown => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)

/** `[[…]]`, `n` arrays deep, parsed. */
export const nestedArray = (n: number): unknown => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`)

const row = (e: { successes: number; failures: number; revoked?: boolean }) => ({
  score: trustScore(e),
  successes: e.successes,
  failures: e.failures,
})

/** Trust rows exactly as the replay of `entries` gives them (what an honest node writes). */
export function trustRowsOf(entries: readonly AuditEntry[]) {
  const l = collectTrustEvidence(entries)
  return {
    formula: TRUST_FORMULA,
    agents: [...l.dids].map(([did, e]) => ({ did, ...row(e) })),
    peers: [...l.peers].map(([peer, e]) => ({ peer, ...row(e) })),
    connections: [...l.pairs].map(([k, e]) => {
      const [a, b] = k.split(' ')
      return { a, b, ...row(e) }
    }),
  }
}

/** What the NDJSON form of a synthetic export carries besides its entries. */
export interface NdjsonParts {
  readonly keyEvents?: readonly unknown[]
  /** The header's `keyEvents` count (default: the number of key event lines). */
  readonly headerKeyEvents?: number
  /** Messages, each put right after the entry that records its acceptance. */
  readonly messages?: readonly Record<string, unknown>[]
}

/** The lines of `b` as a version 2 NDJSON export (docs/audit.md): header, key events, entries, lists, end. */
export function ndjsonLines(b: SyntheticExport, parts: NdjsonParts = {}): string[] {
  const { entries, leafHashes } = b.doc
  const keyEvents = parts.keyEvents ?? []
  const messages = parts.messages ?? []
  const lines: unknown[] = [
    {
      format: 'meshsig-audit-ndjson/2',
      type: 'header',
      version: 2,
      size: entries.length,
      exportedAt: new Date().toISOString(),
      checkpoint: b.doc.checkpoint,
      nodePublicKey: b.doc.nodePublicKey,
      keyEvents: parts.headerKeyEvents ?? keyEvents.length,
    },
    ...keyEvents.map((event) => ({ type: 'keyEvent', event })),
  ]
  entries.forEach((entry, i) => {
    lines.push({ type: 'entry', leaf: leafHashes[i], entry })
    const m = messages.find((x) => x.id === entry.envelopeId && entry.kind === 'envelope.accepted')
    if (m !== undefined) lines.push({ type: 'message', message: m })
  })
  const t = trustRowsOf(entries)
  for (const r of t.agents) lines.push({ type: 'trust', of: 'agent', ...r })
  for (const r of t.peers) lines.push({ type: 'trust', of: 'peer', ...r })
  for (const r of t.connections) lines.push({ type: 'trust', of: 'connection', ...r })
  const lists = {
    agents: 0,
    connections: 0,
    revoked: 0,
    trustAgents: t.agents.length,
    trustPeers: t.peers.length,
    trustConnections: t.connections.length,
  }
  lines.push({ type: 'end', entries: entries.length, messages: messages.length, lists, trust: { formula: t.formula } })
  return lines.map((l) => JSON.stringify(l))
}

/** The verdict of the NDJSON checker over `lines`. */
export function checkNdjsonLines(lines: readonly string[]): ExportCheck {
  const c = new NdjsonExportCheck()
  for (const l of lines) c.line(l)
  return c.finish()
}
