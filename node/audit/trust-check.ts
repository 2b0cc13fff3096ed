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
import { pairKey, trustScore, TRUST_FORMULA_V1, type TrustEvidence, type TrustLedger } from '../core/index.js'
import type { Problems } from './export-check.js'

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

/** Compare every trust score `d` shows with `ledger`'s, and that each scored subject has one row; returns how many. */
export function checkTrustScores(
  d: Record<string, unknown>,
  ledger: TrustLedger,
  problems: Problems,
  options: TrustCheckOptions = {},
): number {
  checkRevocations(d, ledger, problems)
  checkListedOnce(d, problems)
  const trust = (d.trust ?? {}) as Record<string, unknown>
  const pairs = connectionRule(trust.formula, options, problems) === 'v1' ? ledger.pairsV1 : ledger.pairs
  let checked = 0
  const compare = (subject: string, shown: unknown, expected: number): void => {
    checked += 1
    if (shown !== expected)
      problems.add('trust', subject, `trust of ${subject} is ${String(shown)}; the log gives ${expected}`)
  }
  const did = (x: string): number => trustScore(ledger.dids.get(x) ?? ZERO)
  const pair = (a: string, b: string): number => trustScore(pairs.get(pairKey(a, b)) ?? ZERO)
  for (const a of rows(d.agents)) if (typeof a.did === 'string') compare(a.did, a.trustScore, did(a.did))
  for (const c of rows(d.connections)) {
    if (typeof c.fromDid === 'string' && typeof c.toDid === 'string' && c.trust !== undefined)
      compare(`${c.fromDid} ↔ ${c.toDid}`, c.trust.score, pair(c.fromDid, c.toDid))
  }
  const seen = { dids: new Set<string>(), peers: new Set<string>(), pairs: new Set<string>() }
  for (const a of rows(trust.agents)) {
    if (typeof a.did !== 'string') continue
    once(seen.dids, a.did, problems)
    compare(a.did, a.score, did(a.did))
  }
  for (const p of rows(trust.peers)) {
    if (typeof p.peer !== 'string') continue
    once(seen.peers, p.peer, problems)
    compare(p.peer, p.score, trustScore(ledger.peers.get(p.peer) ?? ZERO))
  }
  for (const c of rows(trust.connections)) {
    if (typeof c.a !== 'string' || typeof c.b !== 'string') continue
    once(seen.pairs, pairKey(c.a, c.b), problems)
    compare(`${c.a} ↔ ${c.b}`, c.score, pair(c.a, c.b))
  }
  if (d.trust !== undefined) checkEveryScored(ledger, pairs, seen, problems)
  return checked
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
      if (seen.has(k)) problems.add('revocation', String(k), `${String(k)} is listed more than once in ${list}`)
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
    rows(d.connections).map((c) => c.id ?? `${String(c.fromDid)} ${String(c.toDid)}`),
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
      problems.add('revocation', did, `${did} is revoked in the log but shown ${String(shown)}`)
  }
}
