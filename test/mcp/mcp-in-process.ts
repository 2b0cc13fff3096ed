/**
 * The real meshsig MCP server (`createMeshsigMcpServer`, with the context
 * `meshsig-mcp` builds from its environment) and the MCP SDK's real `Client`,
 * linked in this process by the SDK's in-memory transport pair: for suites
 * that need a fake server or a node in the test process (the attack review
 * 92 cases). `mcp-fixture.ts` spawns the built server over stdio instead.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { createMeshsigMcpServer } from '../../api/mcp/server.js'
import { mcpContext } from '../../api/mcp/context.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'

/** What a tool answered, and the size of the whole result as JSON. */
export interface InProcessAnswer {
  readonly isError: boolean
  readonly text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any
  /** Characters of the whole tool result as JSON: what lands in a model's context. */
  readonly bytes: number
}

/** A client linked to a server. */
export interface InProcessMcp {
  /** Call a tool; `timeoutMs`: the client's own request timeout (default 120 s). */
  call(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<InProcessAnswer>
  /** The input schema's properties of a tool. */
  inputOf(name: string): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** A server built from `env` (`MESHSIG_HOME`, `MESHSIG_SERVER`, …) with a client linked to it. */
export async function mcpInProcess(env: Record<string, string>): Promise<InProcessMcp> {
  const server = createMeshsigMcpServer(mcpContext(env, () => undefined))
  const [a, b] = InMemoryTransport.createLinkedPair()
  await server.connect(a)
  const client = new Client({ name: 'meshsig-test', version: '0.0.0' })
  await client.connect(b)
  return {
    async call(name, args = {}, timeoutMs = 120_000) {
      const raw = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: timeoutMs,
      })) as CallToolResult
      const first = raw.content[0]
      return {
        isError: raw.isError === true,
        text: first?.type === 'text' ? first.text : '',
        data: raw.structuredContent,
        bytes: JSON.stringify(raw).length,
      }
    },
    async inputOf(name) {
      const { tools } = await client.listTools()
      return (tools.find((t) => t.name === name)?.inputSchema.properties ?? {}) as Record<string, unknown>
    },
    close: async () => {
      await client.close()
      await server.close()
    },
  }
}

/** A node on a real API port whose operator token is the one a fresh home holds, and the MCP server of that home. */
export interface OperatorPair {
  readonly fx: ApiFixture
  readonly mcp: InProcessMcp
  readonly token: string
  close(): Promise<void>
}

/**
 * Make a home with `meshsig_init`, start a node whose operator token is that home's (rate limit 60 a minute,
 * as by default), and connect the home's MCP server to it: the MCP server holds the operator's token.
 */
export async function mcpWithOperatorToken(prefix: string): Promise<OperatorPair> {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const home = join(root, 'home')
  const init = await mcpInProcess({ MESHSIG_HOME: home })
  if ((await init.call('meshsig_init')).isError) throw new Error('meshsig_init failed')
  await init.close()
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim()
  const fx = await startApi({ rateLimit: 60 }, { token })
  const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: fx.url })
  return {
    fx,
    mcp,
    token,
    close: async () => {
      await mcp.close()
      await fx.stop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}
