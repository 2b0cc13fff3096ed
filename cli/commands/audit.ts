/**
 * `meshsig audit`: the node's audit export, and its offline verification.
 *
 * - `meshsig audit` prints a summary; `meshsig audit --json > report.json`
 *   writes the whole export (every agent, connection, message, key event and
 *   audit entry, with the signed checkpoint and the node's public key).
 * - `meshsig audit verify report.json` (or `-` for stdin) needs no node: it
 *   recomputes the Merkle root, checks the checkpoint signature, names each
 *   entry that was altered, removed or reordered, re-verifies every message
 *   from its envelope and recomputes every trust score. Exit 0 when all of it
 *   checks out, 1 when anything does not, 2 when the file is not an export.
 *   On a terminal a progress bar runs on stderr.
 */
import { readFileSync } from 'node:fs'
import type { CAC } from 'cac'
import { checkAuditExport, type ExportCheck } from '../../node/audit/export-check.js'
import { MeshsigError } from '../../node/core/errors.js'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'
import { progressBar } from '../progress.js'

/** Most problems listed in human output (all are in --json). */
const MAX_LISTED = 50

/** Export the audit report of the node at `--server`. */
export async function auditCommand(ctx: CliContext): Promise<CommandResult> {
  const report = await apiClient(ctx).auditExport()
  const s = report.summary
  return {
    json: report as unknown as Record<string, unknown>,
    human: block(`${OK} Audit report of ${report.node.name} (${report.exportedAt})`, [
      ['Agents', `${s.totalAgents} (${s.activeAgents} active, ${s.revokedAgents} revoked)`],
      ['Messages', `${s.totalMessages} verified, ${s.failedVerifications} rejected`],
      ['Connections', String(s.totalConnections)],
      ['Average trust', s.averageTrust.toFixed(2)],
      ['Key events', String(s.keyEvents)],
      ['Audit entries', `${s.auditEntries} (checkpoint root ${report.checkpoint.root})`],
      ['Full export', 'meshsig audit --json > report.json'],
      ['Check it offline', 'meshsig audit verify report.json'],
    ]),
  }
}

async function readExport(ctx: CliContext, file: string): Promise<unknown> {
  let text: string
  try {
    text = file === '-' ? Buffer.from(await ctx.io.readStdin()).toString('utf8') : readFileSync(file, 'utf8')
  } catch (err) {
    const why = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))
    throw new MeshsigError('INVALID_INPUT', `cannot read ${file} (${why})`, { file })
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new MeshsigError('MALFORMED', `${file} is not JSON: expected the output of meshsig audit --json`, { file })
  }
}

/** The lines that say what is wrong, most important first, at most `MAX_LISTED`. */
function problemLines(check: ExportCheck): string[] {
  const all = [...check.log.problems.map((p) => p.message), ...check.problems.map((p) => p.message)]
  const hidden = all.length - MAX_LISTED + check.log.omittedProblems
  const lines = all.slice(0, MAX_LISTED).map((m) => `  - ${m}`)
  if (hidden > 0) lines.push(`  … and ${hidden} more (see --json)`)
  return lines
}

function verdictJson(file: string, check: ExportCheck): Record<string, unknown> {
  const { log } = check
  return {
    ok: check.ok,
    file,
    size: log.size,
    root: log.root,
    checkpoint: log.checkpoint,
    diagnosis: log.diagnosis,
    problems: log.problems,
    omittedProblems: log.omittedProblems,
    messagesChecked: check.messagesChecked,
    scoresChecked: check.scoresChecked,
    contentProblems: check.problems,
  }
}

/** Verify an export file offline; exit 0 when it checks out, 1 when it does not. */
export async function auditVerifyCommand(ctx: CliContext, file: string | undefined): Promise<CommandResult> {
  if (file === undefined) throw new MeshsigError('INVALID_INPUT', 'usage: meshsig audit verify <report.json | ->')
  const doc = await readExport(ctx, file)
  const bar = progressBar(ctx.io, { label: 'Verifying audit export', delayMs: 250 })
  let check: ExportCheck
  try {
    check = checkAuditExport(doc, { onProgress: (done, total) => bar.update(done, total) })
  } finally {
    bar.done()
  }
  const chk = check.log.checkpoint
  const rows: Array<[string, string]> = [
    ['Entries', `${check.log.size} (root ${check.log.root})`],
    ['Checkpoint', chk ? `size ${chk.size}, signed by ${chk.origin} at ${new Date(chk.ts).toISOString()}` : 'none'],
    ['Messages', `${check.messagesChecked} re-verified from their envelopes`],
    ['Trust scores', `${check.scoresChecked} recomputed from the entries`],
  ]
  if (check.ok) return { json: verdictJson(file, check), human: block(`${OK} Audit export verified`, rows) }
  const heading = `${FAIL} Audit export does NOT verify (${check.log.diagnosis} diagnosis)`
  return {
    json: verdictJson(file, check),
    human: [block(heading, rows), 'Problems:', ...problemLines(check)].join('\n'),
    exitCode: 1,
  }
}

/** Register `audit [action] [file]`. */
export function registerAudit(cli: CAC, rt: CliRuntime): void {
  cli
    .command(
      'audit [action] [file]',
      'Audit log: export it (summary, or everything with --json); verify <file> offline',
    )
    .example('  meshsig audit --json > audit-2026-03.json')
    .example('  meshsig audit verify audit-2026-03.json')
    .action((action: string | undefined, file: string | undefined, options: GlobalOptions) => {
      const ctx = rt.context(options)
      if (action === undefined) return auditCommand(ctx)
      if (action === 'verify') return auditVerifyCommand(ctx, file)
      throw new MeshsigError(
        'INVALID_INPUT',
        `unknown audit action '${action}' (use: meshsig audit, meshsig audit verify <file>)`,
      )
    })
}
