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
import { trustScore } from '../core/index.js'
import type { MessageRow, Store } from '../store/index.js'
import type { AgentService } from './agent-service.js'
import { messageView, type MessageView } from './report-service.js'
import type { KeyLogEntry, PairView, RatePoint, TrustPoint } from '../core/views.js'

export type { KeyLogEntry, PairView, RatePoint, TrustPoint }

/** Samples and minutes kept: one hour. */
export const HISTORY_MINUTES = 60
const MINUTE = 60_000
const PAGE = 1000

/** What the history report reads. */
export interface HistoryComponents {
  readonly store: Store
  readonly agents: AgentService
  readonly clock: () => number
}

/** History read models over the store, with incremental caches. */
export class HistoryReport {
  private auditNext = -1
  private readonly minutes = new Map<number, { verified: number; rejected: number }>()
  /** Per minute: the scores of agents with evidence, the score of the others (`fallback`), the average of all. */
  private readonly trustSamples: {
    t: number
    takenAt: number
    scores: Map<string, number>
    fallback: number
    average: number
  }[] = []

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
    return this.trustSamples.flatMap((s) => {
      const known = since !== undefined && since <= s.takenAt
      const score = s.scores.get(did) ?? (known ? s.fallback : undefined)
      return score === undefined ? [] : [{ t: s.t, score }]
    })
  }

  /**
   * One sample costs a read per agent with trust evidence, not per agent:
   * every other agent scores what no evidence scores (docs/protocol.md §7),
   * kept once per sample as `fallback` (a read of every agent's record each
   * minute stalled a node holding 20,000 agents for seconds; issue 12).
   */
  private sampleTrust(): void {
    const { store } = this.c
    const now = this.c.clock()
    const t = Math.floor(now / MINUTE) * MINUTE
    const latest = this.trustSamples[this.trustSamples.length - 1]
    const count = store.agents.count()
    const scores = new Map<string, number>()
    for (const r of [...store.trust.list('did'), ...store.trust.list('revoked')]) {
      const score = scores.has(r.key) ? undefined : this.c.agents.record(r.key)?.trustScore
      if (score !== undefined) scores.set(r.key, score)
    }
    const fallback = trustScore({ successes: 0, failures: 0 })
    const sum = [...scores.values()].reduce((a, x) => a + x, 0) + (count - scores.size) * fallback
    const average = count ? sum / count : 0
    const sample = { t, takenAt: now, scores, fallback, average: Math.round(average * 1e4) / 1e4 }
    if (latest?.t === t) this.trustSamples[this.trustSamples.length - 1] = sample
    else this.trustSamples.push(sample)
    while (this.trustSamples.length > HISTORY_MINUTES) this.trustSamples.shift()
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
