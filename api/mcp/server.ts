/**
 * The meshsig MCP server (`meshsig-mcp`): an `McpServer` with the nine tools
 * of docs/api.md, a thin adapter over the same service layer as the CLI (its
 * command functions for the identity in `$MESHSIG_HOME`, the SDK's HTTP
 * client for the node at `MESHSIG_SERVER`). It never reaches into a node's
 * internals. `serveStdio` runs it over standard input and output.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { CallToolRequestSchema, type CallToolResult, type ServerResult } from '@modelcontextprotocol/sdk/types.js'
import type { CliContext } from '../../cli/context.js'
import { packageVersion } from '../../cli/version.js'
import { MeshsigError } from '../../node/core/errors.js'
import { mcpContext, type DiagnosticSink } from './context.js'
import { toolError } from './tool-kit.js'
import { MESHSIG_TOOLS } from './tools/index.js'

/** Name the server reports in the MCP handshake. */
export const MCP_SERVER_NAME = 'meshsig'

/** What the server tells the client about itself. */
export const MCP_INSTRUCTIONS =
  'meshsig gives AI agents Ed25519 identities (did:msig DIDs) and signed messages. meshsig_init, meshsig_sign, ' +
  'meshsig_verify and meshsig_identity work on this machine’s identity in $MESHSIG_HOME; meshsig_agents, ' +
  'meshsig_stats, meshsig_audit, meshsig_revoke and meshsig_revoked ask the meshsig node at MESHSIG_SERVER ' +
  '(default http://localhost:4888). Failures come back as {error, code}.'

/** Strip the JSON-RPC prefix the SDK puts on its own refusals ("MCP error -32602: "). */
function sdkMessage(text: string): string {
  return text.replace(/^MCP error -?\d+:\s*/, '')
}

/** An SDK refusal (no `structuredContent`) as a meshsig error result: `NOT_FOUND` for an unknown tool, else `INVALID_INPUT`. */
function withErrorCode(result: ServerResult): ServerResult {
  const r = result as CallToolResult
  if (r.isError !== true || r.structuredContent !== undefined) return result
  const first = r.content[0]
  const message = sdkMessage(first?.type === 'text' ? first.text : 'tool call refused')
  const code = /^Tool \S+ (not found|disabled)$/.test(message) ? 'NOT_FOUND' : 'INVALID_INPUT'
  return toolError(new MeshsigError(code, message))
}

/**
 * The SDK itself answers some calls before a tool runs: arguments that do not
 * match the tool's input schema (an unknown field, a wrong type) and unknown
 * tool names. It answers them as tool results with `isError: true` but only
 * a text; this gives them the same `{error, code}` as every other failure.
 * Must run before the first tool is registered (which installs the handler).
 */
function codeSdkRefusals(mcp: McpServer): void {
  const server = mcp.server
  const install = server.setRequestHandler
  server.setRequestHandler = function (schema, handler) {
    if ((schema as unknown) !== CallToolRequestSchema) return install.call(server, schema, handler)
    return install.call(server, schema, async (request, extra) => withErrorCode(await handler(request, extra)))
  }
}

/** Build the MCP server with every meshsig tool, running with `ctx` (home folder, node URL). */
export function createMeshsigMcpServer(ctx: CliContext): McpServer {
  const mcp = new McpServer(
    { name: MCP_SERVER_NAME, title: 'meshsig', version: packageVersion() },
    { instructions: MCP_INSTRUCTIONS },
  )
  codeSdkRefusals(mcp)
  for (const tool of MESHSIG_TOOLS) tool.register(mcp, ctx)
  return mcp
}

/** A server connected to its transport. */
export interface RunningMcpServer {
  readonly server: McpServer
  /** Close the transport and stop. */
  close(): Promise<void>
}

/** Serve the meshsig tools over stdio, configured from `env` (`MESHSIG_HOME`, `MESHSIG_SERVER`). */
export async function serveStdio(
  env: Readonly<Record<string, string | undefined>>,
  log?: DiagnosticSink,
): Promise<RunningMcpServer> {
  const server = createMeshsigMcpServer(mcpContext(env, log))
  await server.connect(new StdioServerTransport())
  return { server, close: () => server.close() }
}
