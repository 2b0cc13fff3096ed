/**
 * The tools that talk to the node at `MESHSIG_SERVER` (default
 * http://localhost:4888) through the SDK's HTTP client, with the API token
 * from `$MESHSIG_HOME/api-token` when there is one, as the CLI does:
 * `meshsig_agents`, `meshsig_stats`, `meshsig_audit`, `meshsig_revoke` and
 * `meshsig_revoked` (list-tools.ts). A node that does not answer is `UNREACHABLE`; with a
 * token at hand, a server that does not prove it is the node is
 * `NODE_UNPROVEN` (decision 0055), for reads and revocations alike.
 */
import * as z from 'zod'
import { readAuditSummary, type AuditSummary } from '../../../cli/commands/audit-summary.js'
import {
  DEFAULT_REVOKE_REASON,
  homeIdentity,
  MAX_REASON_LENGTH,
  revokeCommand,
  revokeReason,
} from '../../../cli/commands/revoke.js'
import { apiClient, tokenFor } from '../../../cli/api-client.js'
import { didArgument } from '../../../cli/key-input.js'
import { isMeshsigError } from '../../../node/core/errors.js'
import { statsCommand } from '../../../cli/commands/stats.js'
import type { CliContext } from '../../../cli/context.js'
import { FAIL, OK, block } from '../../../cli/output.js'
import { isoTime } from '../../../node/core/encoding.js'
import { oneLine, quoted } from '../../../node/core/untrusted-text.js'
import { defineTool, fromCommand, type McpTool, type ToolOutcome } from '../tool-kit.js'
import { agentsTool, revokedTool, UNTRUSTED } from './list-tools.js'

/** Reason recorded when `meshsig_revoke` is given none (the API's own default). */
export { DEFAULT_REVOKE_REASON }

/** A tool without input that only reads from the node at MESHSIG_SERVER. */
function nodeReadTool(
  name: string,
  title: string,
  description: string,
  run: (ctx: CliContext, signal?: AbortSignal) => Promise<ToolOutcome>,
): McpTool {
  return defineTool({
    name,
    title,
    description,
    input: z.strictObject({}),
    annotations: { readOnlyHint: true, openWorldHint: true },
    run: (ctx, _args, signal) => run(ctx, signal),
  })
}

/** `meshsig_stats {}`. */
export const statsTool: McpTool = nodeReadTool(
  'meshsig_stats',
  'Node statistics',
  'Statistics of the node at MESHSIG_SERVER: its name and DID, agents (active, revoked, local), messages, ' +
    'verified connections, mesh peers, audit entries and uptime.' +
    UNTRUSTED,
  async (ctx) => fromCommand(await statsCommand(ctx)),
)

function checkpointOf(report: AuditSummary): Record<string, unknown> {
  const chk = report.checkpoint
  // the server's word: nothing here checks its signature (meshsig audit verify does, offline)
  return { size: chk.size, root: chk.root, signedAt: isoTime(chk.ts), origin: chk.origin, signatureChecked: false }
}

/** The summary of an audit export: counts and the signed checkpoint, not the entries. */
export function auditSummary(report: AuditSummary): ToolOutcome {
  const s = report.summary
  const checkpoint = checkpointOf(report)
  const data = {
    node: report.node,
    exportedAt: report.exportedAt,
    summary: s,
    checkpoint,
    earlierCheckpoints: report.earlierCheckpoints,
    fullExport: 'meshsig audit --json > report.json',
    verifyOffline: 'meshsig audit verify report.json',
  }
  // the node's name is its operator's text: quoted; every row value stays on its line (block)
  const text = block(
    `${OK} Audit report of ${quoted(String(report.node.name))} (${oneLine(String(report.exportedAt))})`,
    [
      ['Agents', `${s.totalAgents} (${s.activeAgents} active, ${s.revokedAgents} revoked)`],
      ['Messages', `${s.totalMessages} verified, ${s.failedVerifications} rejected`],
      ['Connections', String(s.totalConnections)],
      ['Average trust', s.averageTrust.toFixed(2)],
      ['Key events', String(s.keyEvents)],
      ['Audit entries', String(s.auditEntries)],
      ['Checkpoint', `size ${checkpoint.size}, root ${checkpoint.root}, as the server states it`],
      ['Its signature', 'not checked here: meshsig audit verify checks it offline'],
      ['Full export', data.fullExport],
    ],
  )
  return { text, data }
}

/** `meshsig_audit {}`. */
export const auditTool: McpTool = nodeReadTool(
  'meshsig_audit',
  'Audit summary',
  'Summary of the audit export of the node at MESHSIG_SERVER: agents, messages (verified, rejected), ' +
    'connections, average trust, key events and audit entries, with the checkpoint of the tamper-evident log ' +
    '(size, Merkle root, signer, time) as the server states it: its signature is not checked here. The full ' +
    'export is large: get it with meshsig audit --json and check it offline with meshsig audit verify.' +
    UNTRUSTED,
  // the client's cancellation ends the read too (review 92 F3: a hostile server held it for ever)
  async (ctx, signal) => auditSummary(await readAuditSummary(ctx, undefined, signal ? { signal } : {})),
)

/** `meshsig_revoke {did, reason?}`. */
export const revokeTool: McpTool = defineTool({
  name: 'meshsig_revoke',
  title: 'Revoke a DID',
  description:
    'Revoke a did:msig for good through the node at MESHSIG_SERVER: afterwards nothing from or to it is accepted ' +
    'on any node. Needs proof, which the node checks: only the node’s operator (this server holding the node’s ' +
    'operator token in $MESHSIG_HOME/api-token; loopback alone is no proof) revokes, for an agent that node hosts. ' +
    'Without proof it is refused (UNAUTHORIZED) and nothing changes. The identity in $MESHSIG_HOME (the node’s ' +
    'own DID) is never revoked here (FORBIDDEN): a person does that at the terminal.' +
    UNTRUSTED,
  input: z.strictObject({
    did: z.string().min(1).max(256).describe('The did:msig to revoke (a did:key of the same key is accepted)'),
    reason: z
      .string()
      .max(MAX_REASON_LENGTH)
      .optional()
      .describe(`Why; kept in the revocation and listed by meshsig_revoked (default "${DEFAULT_REVOKE_REASON}")`),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  run: async (ctx, args) => {
    // checked as the node checks it before anything is read or sent (attack review 121): a reason the node refuses
    // would go out with the operator token every time, spending its bucket and changing nothing
    const reason = revokeReason(args.reason)
    const did = await parsedDid(ctx, args.did)
    const refused = did === undefined ? undefined : (ownIdentityRefused(ctx, did) ?? (await notHostedHere(ctx, did)))
    if (refused !== undefined) return refused
    const result = await revokeCommand(ctx, did ?? args.did, { reason })
    const code = (result.json as { code?: unknown }).code
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return noProofHere(args.did, code)
    return fromCommand(result, (result.exitCode ?? 0) !== 0)
  },
})

/** The DID `target` names, or undefined when it names none (revokeCommand then says why). */
async function parsedDid(ctx: CliContext, target: string): Promise<string | undefined> {
  try {
    return await didArgument(ctx, target)
  } catch {
    return undefined
  }
}

/**
 * The identity of $MESHSIG_HOME is not revoked by a tool (decision 0077): by default it is the node's own DID,
 * and one call from a model, asked or prompt-injected, would end it for good, leaving the node unable to
 * register or rotate agents and its agents' controller revoked; `meshsig_init` keeps it for the same reason
 * (decision 0063). Its operator revokes it at the terminal. Undefined for any other DID.
 */
function ownIdentityRefused(ctx: CliContext, did: string): ToolOutcome | undefined {
  if (homeIdentity(ctx, did) === undefined) return undefined
  const error =
    'this is the identity in $MESHSIG_HOME, the node’s own DID: no MCP tool revokes it, a revocation is final and ' +
    'the node would register and rotate no agent afterwards. If its key was stolen, its operator revokes it at ' +
    'the terminal: meshsig revoke <DID> --own-identity --reason <text> (docs/SECURITY.md).'
  return notRevoked(did, 'FORBIDDEN', error)
}

/**
 * The answer for a DID the node cannot revoke with its operator token
 * (unknown to the node, or hosted elsewhere), told by
 * a read first: a revocation sent with the token spends the token's bucket,
 * answered or refused, so a model told to revoke DIDs the node does not host
 * left the operator's own `meshsig revoke` answered 429 (attack review 96).
 * Undefined when the revocation is worth sending (the node hosts the DID);
 * a read refused (a spent read bucket) sends nothing either.
 */
async function notHostedHere(ctx: CliContext, did: string): Promise<ToolOutcome | undefined> {
  // without the token nothing spends its bucket: the node's own answer says why (UNAUTHORIZED)
  if (tokenFor(ctx) === undefined) return undefined
  try {
    const agent = await apiClient(ctx).agent(did)
    if (agent.status === 'revoked') return notRevoked(did, 'REVOKED', 'it is revoked already: nothing to do')
    return agent.origin === 'local' ? undefined : noProofHere(did, 'UNAUTHORIZED') // as the node would answer
  } catch (err) {
    if (!isMeshsigError(err)) throw err
    // the read's own refusal (a spent read bucket too): nothing is sent with the token
    return err.code === 'NOT_FOUND' ? noProofHere(did, 'NOT_FOUND') : notRevoked(did, err.code, oneLine(err.message))
  }
}

/**
 * A refused revocation, said for a model: the node's own hint names a
 * private key, which no MCP tool takes and which must never pass through a
 * model's context (docs/mcp.md).
 */
function noProofHere(did: string, code: string): ToolOutcome {
  const error =
    "this MCP server holds no proof for that DID: it revokes, with the node's operator token, the agents that " +
    "node hosts. Ask whoever holds that DID's key, or the operator of the node " +
    'that hosts it, to revoke it (meshsig revoke); never ask anyone for a private key.'
  return notRevoked(did, code, error)
}

function notRevoked(did: string, code: string, error: string): ToolOutcome {
  return {
    text: block(`${FAIL} Not revoked (${code})`, [['Why', error]]),
    data: { revoked: false, did, error, code },
    isError: true,
  }
}

/** The tools that talk to a node, in the order of docs/api.md. */
export const NODE_TOOLS: readonly McpTool[] = [agentsTool, statsTool, auditTool, revokeTool, revokedTool]
