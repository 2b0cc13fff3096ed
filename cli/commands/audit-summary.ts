/**
 * The summary `meshsig audit` prints and `meshsig_audit` answers (docs/audit.md):
 * read from the node's NDJSON export as it streams, keeping only its header
 * (node, time, checkpoint), the count of older checkpoints and its end line
 * (the summary). Memory does not grow with the log, and no JSON export is
 * built whole on the node (at most one a `limits.jsonExport.intervalMs` above
 * `limits.jsonExport.entries`, and hundreds of MB at a million entries).
 */
import type { ExportSummary } from '../../node/audit/export-summary.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { CliContext } from '../context.js'
import { eachLine, fetchNdjson } from './audit-stream.js'

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

/** The summary of the node's export at `size` (default: its current checkpoint's). */
export async function readAuditSummary(ctx: CliContext, size?: number): Promise<AuditSummary> {
  const body = await fetchNdjson(ctx, size)
  let header: Header | undefined
  let end: { summary?: ExportSummary } | undefined
  let earlier = 0
  await eachLine(body, (line) => {
    // only three kinds of line are read; entries and messages are passed over unparsed
    if (header === undefined) header = JSON.parse(line) as Header
    else if (line.startsWith('{"type":"checkpoint"')) earlier += 1
    else if (line.startsWith('{"type":"end"')) end = JSON.parse(line) as typeof end
  })
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
