/**
 * History read models for the dashboard and the verifier: message traffic
 * per pair of agents (counts and last seen), per-DID message totals, a
 * DID's key event log with times, signatures verified and rejected per
 * minute over the last hour (from the audit log), trust samples, and where
 * a stored message sits in the audit log. Pure reads of the store; the
 * message counts are the store's (kept as messages are stored), the rates a
 * cache caught up incrementally, so each call costs only what arrived since
 * the last one.
 */
import type { AuditEntry } from '../core/audit-entry.js'
import { refusalsByBucket } from '../core/audit-refusals.js'
import { trustScore, type TrustEvidence } from '../core/index.js'
import type { MessageRow, Store } from '../store/index.js'
import { messageView, type MessageView } from './report-service.js'
import type { KeyLogEntry, PairView, RatePoint, TrustPoint } from '../core/views.js'

export type { KeyLogEntry, PairView, RatePoint, TrustPoint }

/** Samples and minutes kept: one hour. */
export const HISTORY_MINUTES = 60
const MINUTE = 60_000
const PAGE = 1000

/** One minute's trust sample (`HistoryReport.trustSamples`). */
interface TrustSample {
  readonly t: number
  readonly takenAt: number
  readonly scores: Map<string, number>
  readonly fallback: number
  readonly average: number
}

/** What the history report reads. */
export interface HistoryComponents {
  readonly store: Store
  readonly clock: () => number
}

/** History read models over the store, with incremental caches. */
export class HistoryReport {
  private auditNext = -1
  private readonly minutes = new Map<number, { verified: number; rejected: number }>()
  /**
   * Per minute: the scores of agents with evidence that changed since the
   * sample before (the oldest holds them all), the score of the others
   * (`fallback`) and the average of all (review 101 F2: 60 full copies).
   */
  private readonly trustSamples: TrustSample[] = []
  /** Every agent score of the newest sample, what the next one is compared with. */
  private lastScores = new Map<string, number>()

  constructor(private readonly c: HistoryComponents) {}

  /**
   * The `limit` message pairs with the most recent traffic (newest signed
   * time first), how many pairs there are and how many messages are stored.
   * Read from counts the store keeps as messages are stored and deleted
   * (migration 20, decision 0067), never from the messages themselves.
   */
  pairs(limit: number): { pairs: PairView[]; total: number; messages: number } {
    const { messages } = this.c.store
    return { pairs: messages.pairs(limit), total: messages.pairCount(), messages: messages.total() }
  }

  /** Stored messages from or to `did` (a message to itself counts once). */
  messageTotal(did: string): number {
    return this.c.store.messages.totalOf(did)
  }

  /** A DID's key events, inception first, with their signed times. */
  keyLog(did: string): KeyLogEntry[] {
    return this.c.store.keyEvents.log(did).map((e) => ({
      seq: e.seq,
      type: e.type,
      key: e.type === 'rev' ? null : e.key,
      reason: e.type === 'rev' ? e.reason : null,
      ts: e.ts,
    }))
  }

  /** Verified and rejected per minute over the last hour, oldest first (empty minutes included). */
  rates(): RatePoint[] {
    const now = this.c.clock()
    this.catchUpAudit(now)
    const last = Math.floor(now / MINUTE) * MINUTE
    const points: RatePoint[] = []
    for (let t = last - (HISTORY_MINUTES - 1) * MINUTE; t <= last; t += MINUTE) {
      const m = this.minutes.get(t)
      points.push({ t, verified: m?.verified ?? 0, rejected: m?.rejected ?? 0 })
    }
    return points
  }

  private catchUpAudit(now: number): void {
    const since = now - HISTORY_MINUTES * MINUTE
    if (this.auditNext < 0) this.auditNext = this.firstIndexAtOrAfter(since)
    for (;;) {
      const rows = this.c.store.auditEntries.entries(this.auditNext, PAGE)
      for (const row of rows) this.countEntry(JSON.parse(row.entry) as AuditEntry)
      if (rows.length > 0) this.auditNext = rows[rows.length - 1]!.index + 1
      if (rows.length < PAGE) break
    }
    for (const t of this.minutes.keys()) if (t < since - MINUTE) this.minutes.delete(t)
  }

  /**
   * Count a verified message in its minute, and the refusals an entry
   * records in theirs: a refusal summary's over the minutes of its window
   * (node/core/audit-refusals.ts, decision 0053).
   */
  private countEntry(e: AuditEntry): void {
    if (e.kind === 'envelope.accepted' && e.data.type === 'msg') return this.add(e.ts, 'verified', 1)
    for (const [t, n] of refusalsByBucket(e, MINUTE, HISTORY_MINUTES + 1)) this.add(t, 'rejected', n)
  }

  private add(ts: number, what: 'verified' | 'rejected', n: number): void {
    const t = Math.floor(ts / MINUTE) * MINUTE
    const m = this.minutes.get(t) ?? { verified: 0, rejected: 0 }
    m[what] += n
    this.minutes.set(t, m)
  }

  /** Index of the first audit entry recorded at or after `ts` (entries are appended in time order). */
  private firstIndexAtOrAfter(ts: number): number {
    let lo = 0
    let hi = this.c.store.auditEntries.count()
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      const row = this.c.store.auditEntries.entries(mid, 1)[0]
      if (row !== undefined && (JSON.parse(row.entry) as AuditEntry).ts < ts) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Sample every agent's trust once a minute (taken when asked: the
   * dashboard asks every minute) and return the node's average over the
   * last hour, oldest first.
   */
  trustAverages(): TrustPoint[] {
    this.sampleTrust()
    return this.trustSamples.map((s) => ({ t: s.t, score: s.average }))
  }

  /** One agent's trust samples over the last hour, oldest first. */
  trustOf(did: string): TrustPoint[] {
    this.sampleTrust()
    const since = this.c.store.agents.get(did)?.createdAt
    let last: number | undefined
    return this.trustSamples.flatMap((s) => {
      last = s.scores.get(did) ?? last
      const known = since !== undefined && since <= s.takenAt
      const score = last ?? (known ? s.fallback : undefined)
      return score === undefined ? [] : [{ t: s.t, score }]
    })
  }

  /**
   * Sample trust once a minute (the node's timer, trust-sampling.ts; a read
   * in a minute already sampled reads nothing again). A sample reads the
   * evidence rows and, per DID with evidence, whether it is an agent: not
   * its record, and not per agent (every other agent scores what no evidence
   * scores, `fallback`; issue 12), and keeps only the scores that changed.
   */
  private sampleTrust(): void {
    const now = this.c.clock()
    const t = Math.floor(now / MINUTE) * MINUTE
    if (this.trustSamples.at(-1)?.t === t) return
    const scores = this.agentScores()
    const fallback = trustScore({ successes: 0, failures: 0 })
    const count = this.c.store.agents.count()
    const sum = [...scores.values()].reduce((a, x) => a + x, 0) + (count - scores.size) * fallback
    const average = count ? sum / count : 0
    const changed = new Map([...scores].filter(([did, score]) => this.lastScores.get(did) !== score))
    this.lastScores = scores
    this.trustSamples.push({ t, takenAt: now, scores: changed, fallback, average: Math.round(average * 1e4) / 1e4 })
    while (this.trustSamples.length > HISTORY_MINUTES) {
      const dropped = this.trustSamples.shift()!
      const next = this.trustSamples[0]
      // the oldest sample keeps every score it stands for: what the dropped one held and the next did not change
      if (next !== undefined)
        for (const [did, score] of dropped.scores) if (!next.scores.has(did)) next.scores.set(did, score)
    }
  }

  /** The score of every agent with evidence (a revoked one 0), from the evidence rows alone. */
  private agentScores(): Map<string, number> {
    const { store } = this.c
    const evidence = new Map<string, TrustEvidence>()
    for (const r of store.trust.list('did')) evidence.set(r.key, { successes: r.successes, failures: r.failures })
    for (const r of store.trust.list('revoked')) {
      if (r.failures > 0)
        evidence.set(r.key, { ...(evidence.get(r.key) ?? { successes: 0, failures: 0 }), revoked: true })
    }
    const scores = new Map<string, number>()
    for (const [did, e] of evidence) if (store.agents.get(did) !== undefined) scores.set(did, trustScore(e))
    return scores
  }

  /** A stored message by id, with its audit index. */
  message(id: string): { message: MessageView; auditIndex: number | null } | undefined {
    const row = this.c.store.messages.get(id)
    return row === undefined ? undefined : { message: messageView(row), auditIndex: this.auditIndexOf(row) }
  }

  /** Index of the audit entry that recorded the message's acceptance. */
  private auditIndexOf(row: MessageRow): number | null {
    let start = this.firstIndexAtOrAfter(row.receivedAt - 5_000)
    for (let pages = 0; pages < 20; pages++) {
      const rows = this.c.store.auditEntries.entries(start, PAGE)
      for (const r of rows) {
        const e = JSON.parse(r.entry) as AuditEntry
        if (e.envelopeId === row.id && e.kind === 'envelope.accepted') return r.index
      }
      if (rows.length < PAGE) return null
      start = rows[rows.length - 1]!.index + 1
    }
    return null
  }
}
