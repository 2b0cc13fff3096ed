/**
 * The summary `meshsig audit` prints and `meshsig_audit` answers (docs/audit.md):
 * read from the node's NDJSON export as it streams, keeping only its header
 * (node, time, checkpoint), the count of older checkpoints and its end line
 * (the summary). Memory does not grow with the log, and no JSON export is
 * built whole on the node (at most one a `limits.jsonExport.intervalMs` above
 * `limits.jsonExport.entries`, and hundreds of MB at a million entries).
 * Nor does its time: the whole read has a deadline (`MESHSIG_AUDIT_DEADLINE`).
 */
import type { ExportSummary } from '../../node/audit/export-summary.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { CliContext } from '../context.js'
import { eachLine } from './audit-stream.js'
import { fetchNdjson, type NdjsonDeadlines } from './ndjson-fetch.js'

/** The signed checkpoint as the summary shows it. */
export interface SummaryCheckpoint {
  readonly origin: string
  readonly size: number
  readonly root: string
  /** ms since the epoch. */
  readonly ts: number
}

/** What an audit summary shows. */
export interface AuditSummary {
  readonly node: { readonly did: string; readonly name: string }
  readonly exportedAt: string
  readonly summary: ExportSummary
  readonly checkpoint: SummaryCheckpoint
  /** Older checkpoints the export carries. */
  readonly earlierCheckpoints: number
}

interface Header {
  readonly exportedAt?: string
  readonly node?: { readonly did: string; readonly name: string }
  readonly checkpoint?: SummaryCheckpoint
}

/**
 * Most characters of the header the summary reads: the node's key log (at
 * most 256 events), its log keys and witnesses fit many times over. A server
 * that is not the node sent a first line of 128 MiB and the reader took 4.5 GB
 * to parse it (attack review 96).
 */
const MAX_HEADER_CHARS = 4 * 1024 * 1024
/** Most characters of the end line: counts and the summary (version 1 listed every agent there: see audit.md). */
const MAX_END_CHARS = 1024 * 1024
const END_LINE = '{"type":"end"'
const CHECKPOINT_LINE = '{"type":"checkpoint"'

/** `line` parsed, or `PEER_ERROR`: what answered is no meshsig node's export. */
function parsed<T>(line: string, server: string): T {
  try {
    return JSON.parse(line) as T
  } catch {
    throw new MeshsigError('PEER_ERROR', `${server} did not answer a meshsig audit export`)
  }
}

/** Environment variable with the most seconds the summary's read may take. */
export const AUDIT_DEADLINE_ENV = 'MESHSIG_AUDIT_DEADLINE'

/**
 * Most time the summary's read takes by default (ms): ten minutes. The node
 * streams its export at tens of thousands of entries a second
 * (docs/benchmarks.md: 2,000,000 entries in 22 s), so that holds logs far
 * larger than any yet measured; a larger one sets `MESHSIG_AUDIT_DEADLINE`.
 * A server that is not the node, sending what the summary does not keep
 * (review 92 F3), holds the reader no longer than this.
 */
export const AUDIT_SUMMARY_DEADLINE_MS = 10 * 60_000

/** The summary's deadline in ms: `MESHSIG_AUDIT_DEADLINE` (seconds, 1 to 86,400) when set, else the default. */
export function summaryDeadlineMs(ctx: CliContext): number {
  const given = ctx.io.env[AUDIT_DEADLINE_ENV]
  if (given === undefined || given === '') return AUDIT_SUMMARY_DEADLINE_MS
  const seconds = /^\d{1,5}$/.test(given) ? Number(given) : NaN
  if (!(seconds >= 1 && seconds <= 86_400)) {
    const why = `${AUDIT_DEADLINE_ENV} is a number of seconds from 1 to 86400, not '${given.slice(0, 32)}'`
    throw new MeshsigError('INVALID_INPUT', why, { field: AUDIT_DEADLINE_ENV })
  }
  return seconds * 1000
}

/**
 * The summary of the node's export at `size` (default: its current
 * checkpoint's), given up as `deadlines` say (see `fetchNdjson`); the whole
 * read within `summaryDeadlineMs` unless `deadlines.totalMs` says otherwise.
 */
export async function readAuditSummary(
  ctx: CliContext,
  size?: number,
  deadlines: NdjsonDeadlines = {},
): Promise<AuditSummary> {
  const body = await fetchNdjson(ctx, size, { totalMs: summaryDeadlineMs(ctx), ...deadlines })
  let header: Header | undefined
  let end: { summary?: ExportSummary } | undefined
  let earlier = 0
  let first = true
  // only the header and the end line are held; older checkpoints are counted by their start, and entries, key
  // events and messages dropped as they come
  const wanted = (start: string): boolean => {
    if (first) {
      first = false
      return true
    }
    if (start.startsWith(CHECKPOINT_LINE)) earlier += 1
    return start.startsWith(END_LINE)
  }
  const maxLengthOf = (start: string): number => (start.startsWith(END_LINE) ? MAX_END_CHARS : MAX_HEADER_CHARS)
  await eachLine(
    body,
    (line) => {
      if (header === undefined) header = parsed<Header>(line, ctx.server)
      else end = parsed<typeof end>(line, ctx.server)
    },
    { wanted, maxLengthOf },
  )
  const { node, exportedAt, checkpoint } = header ?? {}
  if (node === undefined || exportedAt === undefined || checkpoint === undefined || end?.summary === undefined) {
    throw new MeshsigError('UNREACHABLE', `the audit export of ${ctx.server} ended early: try again`)
  }
  return {
    node: { did: node.did, name: node.name },
    exportedAt,
    summary: end.summary,
    checkpoint,
    earlierCheckpoints: earlier,
  }
}
