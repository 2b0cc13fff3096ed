/**
 * How many refused envelopes an audit entry stands for, read the same way
 * by the node's reports (the export's `summary.failedVerifications`, the
 * NDJSON end line, the dashboard's rejected rate) and by the offline
 * verifier that recounts them. An `envelope.rejected` entry is one refusal,
 * except the refusal summary of a window whose gossip refusals passed the
 * audit budget (docs/protocol.md §7, "Relay quotas and retention"; decision
 * 0053): code `RATE_LIMITED`, no subject, `data: {via: "gossip", since,
 * windowMs, unaudited: {<code>: <count>, …}}`, which stands for the sum of
 * its counts, refused in `[since, since + windowMs)`. Pure.
 */
import type { AuditEntry } from './audit-entry.js'

/** Start and length (ms) of the window a refusal summary sums up. */
export interface RefusalWindow {
  readonly since: number
  readonly windowMs: number
}

type Loose = Pick<AuditEntry, 'kind' | 'subject' | 'code'> & { readonly data: unknown }

function summaryData(e: Loose): Record<string, unknown> | undefined {
  if (e.kind !== 'envelope.rejected' || e.code !== 'RATE_LIMITED' || e.subject !== null) return undefined
  const data = e.data as Record<string, unknown> | null
  if (typeof data !== 'object' || data === null || data.via !== 'gossip') return undefined
  const counts = data.unaudited
  return typeof counts === 'object' && counts !== null && !Array.isArray(counts) ? data : undefined
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

/**
 * The refusals `e` records: 0 for an entry that records none, the sum of
 * `data.unaudited` (its non-negative integer counts) for a refusal summary,
 * else 1.
 */
export function refusalsIn(e: Loose): number {
  if (e.kind !== 'envelope.rejected') return 0
  const data = summaryData(e)
  if (data === undefined) return 1
  let sum = 0
  for (const n of Object.values(data.unaudited as Record<string, unknown>)) if (isCount(n)) sum += n
  return Math.min(sum, Number.MAX_SAFE_INTEGER)
}

/** The window a refusal summary sums up, or undefined (another entry, or a window that is no pair of counts, length ≥ 1). */
export function refusalWindow(e: Loose): RefusalWindow | undefined {
  const data = summaryData(e)
  if (data === undefined || !isCount(data.since) || !isCount(data.windowMs) || data.windowMs < 1) return undefined
  return { since: data.since, windowMs: data.windowMs }
}

/**
 * The refusals `e` records, by the start of each `minuteMs` bucket they fall
 * in: a refusal summary's spread over the part of its window before the
 * entry was written (a window flushed at stop ends early), in proportion to
 * each bucket's share of it, over at most the last `maxBuckets` buckets of
 * that span; any other refusal in the bucket of `e.ts`. The counts add up
 * to `refusalsIn(e)`.
 */
export function refusalsByBucket(
  e: Loose & { ts: number },
  minuteMs: number,
  maxBuckets: number,
): Array<[number, number]> {
  const total = refusalsIn(e)
  if (total === 0) return []
  const bucketOf = (t: number): number => Math.floor(t / minuteMs) * minuteMs
  const w = refusalWindow(e)
  const end = w === undefined ? 0 : Math.min(w.since + w.windowMs, e.ts)
  const start = w === undefined ? 0 : Math.max(w.since, end - maxBuckets * minuteMs)
  if (w === undefined || end <= start) return [[bucketOf(e.ts), total]]
  const out: Array<[number, number]> = []
  let given = 0
  for (let b = bucketOf(start); b < end; b += minuteMs) {
    const covered = Math.min(b + minuteMs, end) - start
    const upTo = b + minuteMs >= end ? total : Math.floor((total * covered) / (end - start))
    if (upTo > given) out.push([b, upTo - given])
    given = Math.max(given, upTo)
  }
  return out
}
