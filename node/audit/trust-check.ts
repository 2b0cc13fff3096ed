/**
 * The trust an export shows, held to the log (docs/audit.md, "Verifying an
 * export"): every score row equals the replay of the entries; each DID, peer
 * and connection the replay scored has exactly one row (a row taken out, or
 * written twice, is a problem); agents, revocations and connections are
 * listed once each; every DID the log records as revoked is shown revoked.
 * Connections are scored by decision 0051's rule, or by the count of
 * `TRUST_FORMULA_V1` for an export that names that formula, when the auditor
 * asks for it (`legacyTrust`): the formula's text is the operator's to write.
 */
import {
  MSIG_DID_RE,
  pairKey,
  trustScore,
  TRUST_FORMULA_V1,
  type TrustEvidence,
  type TrustLedger,
} from '../core/index.js'
import type { Problems } from './export-check.js'
import { quoteValue } from './untrusted-value.js'

interface ScoreRow {
  readonly did?: unknown
  readonly peer?: unknown
  readonly a?: unknown
  readonly b?: unknown
  readonly score?: unknown
  readonly trustScore?: unknown
  readonly status?: unknown
  readonly fromDid?: unknown
  readonly toDid?: unknown
  readonly id?: unknown
  readonly trust?: { readonly score?: unknown }
}

/** How a trust check reads an export. */
export interface TrustCheckOptions {
  /** Accept connections scored by `TRUST_FORMULA_V1` when the export names it (the auditor's choice). */
  readonly legacyTrust?: boolean
}

const ZERO: TrustEvidence = { successes: 0, failures: 0 }

function rows(value: unknown): ScoreRow[] {
  return Array.isArray(value) ? (value.filter((v) => typeof v === 'object' && v !== null) as ScoreRow[]) : []
}

/** Compare every trust row `d` shows with `ledger`'s, and that each scored subject has one row; returns how many. */
export function checkTrustScores(
  d: Record<string, unknown>,
  ledger: TrustLedger,
  problems: Problems,
  options: TrustCheckOptions = {},
): number {
  checkRevocations(d, ledger, problems)
  checkListedOnce(d, problems)
  const trust = (d.trust ?? {}) as Record<string, unknown>
  const pairs = connectionRule(trust.formula, options, problems) === 'v1' ? (ledger.pairsV1 ?? new Map()) : ledger.pairs
  const c = new RowCheck(problems)
  for (const a of rows(d.agents)) if (c.did(a.did, 'agents')) c.score(a.did, a.trustScore, ledger.dids.get(a.did))
  for (const conn of rows(d.connections)) {
    if (!c.did(conn.fromDid, 'connections') || !c.did(conn.toDid, 'connections')) continue
    // a handshake between agents that never exchanged a message is shown with no evidence
    c.row(`${conn.fromDid} ↔ ${conn.toDid}`, conn.trust, pairs.get(pairKey(conn.fromDid, conn.toDid)) ?? ZERO)
  }
  const seen = { dids: new Set<string>(), peers: new Set<string>(), pairs: new Set<string>() }
  for (const a of rows(trust.agents)) {
    if (!c.did(a.did, 'trust.agents')) continue
    once(seen.dids, a.did, problems)
    c.row(a.did, a, ledger.dids.get(a.did))
  }
  for (const p of rows(trust.peers)) {
    if (typeof p.peer !== 'string') {
      problems.add('trust', quoteValue(p.peer), 'a trust.peers row names no peer')
      continue
    }
    once(seen.peers, p.peer, problems)
    c.row(p.peer, p, ledger.peers.get(p.peer))
  }
  for (const r of rows(trust.connections)) {
    if (!c.did(r.a, 'trust.connections') || !c.did(r.b, 'trust.connections')) continue
    const key = pairKey(r.a, r.b)
    once(seen.pairs, key, problems)
    c.row(`${r.a} ↔ ${r.b}`, r, pairs.get(key))
  }
  if (d.trust !== undefined) checkEveryScored(ledger, pairs, seen, problems)
  return c.checked
}

/** One row at a time: its DIDs canonical, its score (and counts) the replay's; a row for nothing scored is a problem. */
class RowCheck {
  checked = 0
  constructor(private readonly problems: Problems) {}

  /** True when `value` is a did:msig DID as the log writes it; else a problem. */
  did(value: unknown, list: string): value is string {
    if (typeof value === 'string' && MSIG_DID_RE.test(value)) return true
    this.problems.add(
      'trust',
      quoteValue(value),
      `a row of ${list} names ${value === undefined ? 'nothing' : quoteValue(value)}, not a did:msig DID`,
    )
    return false
  }

  /** A score alone (an agent's `trustScore`). */
  score(subject: string, shown: unknown, evidence: TrustEvidence | undefined): void {
    this.checked += 1
    const expected = trustScore(evidence ?? ZERO)
    if (shown !== expected)
      this.problems.add('trust', subject, `trust of ${subject} is ${quoteValue(shown)}; the log gives ${expected}`)
  }

  /** A trust row: `{score, successes, failures}`, for a subject the log scored. */
  row(subject: string, row: unknown, evidence: TrustEvidence | undefined): void {
    if (typeof row !== 'object' || row === null) {
      this.problems.add('trust', subject, `the trust of ${subject} is ${quoteValue(row)}, not a row`)
      return
    }
    if (evidence === undefined) {
      this.problems.add('trust', subject, `the log scores no ${subject}; the export shows a trust row for it`)
      return
    }
    const r = row as { score?: unknown; successes?: unknown; failures?: unknown }
    this.score(subject, r.score, evidence)
    if (r.successes !== evidence.successes || r.failures !== evidence.failures) {
      const shown = `${quoteValue(r.successes)} successes and ${quoteValue(r.failures)} failures`
      const log = `${evidence.successes} and ${evidence.failures}`
      this.problems.add('trust', subject, `the trust of ${subject} shows ${shown}; the log gives ${log}`)
    }
  }
}

/** Which rule scores the export's connections: 0051's, or V1's when the export names it and the auditor accepts it. */
function connectionRule(formula: unknown, options: TrustCheckOptions, problems: Problems): 'v1' | 'v2' {
  if (formula !== TRUST_FORMULA_V1) return 'v2'
  if (options.legacyTrust === true) return 'v1'
  const why =
    'the export scores connections by the formula before decision 0051 (every message counted, from anyone); ' +
    'verify it by that rule only if it was made before: meshsig audit verify --legacy-trust'
  problems.add('trust', 'formula', why)
  return 'v1'
}

function once(seen: Set<string>, key: string, problems: Problems): void {
  if (seen.has(key)) problems.add('trust', key, `the trust of ${key} is listed more than once`)
  seen.add(key)
}

/** Each DID, peer and connection the replay scored has its row. */
function checkEveryScored(
  ledger: TrustLedger,
  pairs: ReadonlyMap<string, TrustEvidence>,
  seen: { dids: Set<string>; peers: Set<string>; pairs: Set<string> },
  problems: Problems,
): void {
  const missing = (key: string): void =>
    problems.add('trust', key, `the log scores ${key}; the export shows no trust row for it`)
  for (const key of ledger.dids.keys()) if (!seen.dids.has(key)) missing(key)
  for (const key of ledger.peers.keys()) if (!seen.peers.has(key)) missing(key)
  for (const key of pairs.keys()) if (!seen.pairs.has(key)) missing(key)
}

/** Agents, revocations and connections are listed once each. */
function checkListedOnce(d: Record<string, unknown>, problems: Problems): void {
  const twice = (list: string, keys: unknown[]): void => {
    const seen = new Set<unknown>()
    for (const k of keys) {
      if (seen.has(k)) problems.add('revocation', quoteValue(k), `${quoteValue(k)} is listed more than once in ${list}`)
      seen.add(k)
    }
  }
  twice(
    'agents',
    rows(d.agents).map((a) => a.did),
  )
  twice(
    'revoked',
    rows(d.revoked).map((r) => r.did),
  )
  twice(
    'connections',
    rows(d.connections).map((c) => c.id ?? `${quoteValue(c.fromDid)} ${quoteValue(c.toDid)}`),
  )
}

/**
 * Every DID the log records as revoked (`agent.revoked`) is shown revoked:
 * in the revocation list and, where it is listed, as an agent. The other
 * way round is not checked: the views are read when the export is made, so
 * a revocation logged after the checkpoint's size is rightly shown.
 */
function checkRevocations(d: Record<string, unknown>, ledger: TrustLedger, problems: Problems): void {
  const listed = new Set(rows(d.revoked).map((r) => r.did))
  const status = new Map<unknown, unknown>()
  for (const a of rows(d.agents)) if (!status.has(a.did)) status.set(a.did, a.status)
  for (const [did, evidence] of ledger.dids) {
    if (evidence.revoked !== true) continue
    if (!listed.has(did)) problems.add('revocation', did, `${did} is revoked in the log but not in the revocation list`)
    const shown = status.get(did)
    if (shown !== undefined && shown !== 'revoked')
      problems.add('revocation', did, `${did} is revoked in the log but shown ${quoteValue(shown)}`)
  }
}
