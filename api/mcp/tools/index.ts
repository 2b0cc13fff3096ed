/**
 * The nine MCP tools of docs/api.md, in order: `meshsig_init meshsig_sign
 * meshsig_verify meshsig_identity` (offline) and `meshsig_agents
 * meshsig_stats meshsig_audit meshsig_revoke meshsig_revoked` (node).
 */
import type { McpTool } from '../tool-kit.js'
import { NODE_TOOLS } from './node-tools.js'
import { OFFLINE_TOOLS } from './offline-tools.js'

/** Every tool the meshsig MCP server offers. */
export const MESHSIG_TOOLS: readonly McpTool[] = [...OFFLINE_TOOLS, ...NODE_TOOLS]

/** Names of every tool, in order. */
export const MESHSIG_TOOL_NAMES: readonly string[] = MESHSIG_TOOLS.map((t) => t.name)
