/**
 * The real MCP server in its own process, driven by the SDK's real client
 * over stdio: `buildMcp()` compiles api/mcp/main.ts (as the CLI tests
 * compile the CLI), `connectMcp()` spawns it with a given `MESHSIG_HOME`
 * and `MESHSIG_SERVER` and records every answer so a suite can scan all of
 * them for secrets.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js'
import { buildEntry, type BuiltCli } from '../cli/build-cli.js'

/** Compile the MCP server's entry point. */
export function buildMcp(): BuiltCli {
  return buildEntry('api/mcp/main.ts')
}

/** What a tool answered, with its structured content typed loosely for assertions. */
export interface ToolAnswer {
  readonly isError: boolean
  readonly text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any
  readonly raw: CallToolResult
}

/** A connected client of one server process. */
export interface McpSession {
  /** Call a tool. */
  call(name: string, args?: Record<string, unknown>): Promise<ToolAnswer>
  /** The tool list. */
  listTools(): Promise<Tool[]>
  /** The server's standard error so far. */
  stderr(): string
  close(): Promise<void>
}

/** Where the server runs. */
export interface McpTarget {
  readonly main: string
  readonly home: string
  /** Node URL (`MESHSIG_SERVER`); unset means the default. */
  readonly server?: string
}

/** Every answer any session gave, serialised, for the secret scan. */
export const transcript: string[] = []

function answerOf(raw: CallToolResult): ToolAnswer {
  const first = raw.content[0]
  return {
    isError: raw.isError === true,
    text: first?.type === 'text' ? first.text : '',
    data: raw.structuredContent,
    raw,
  }
}

/** Spawn the server and connect the SDK client to it over stdio. */
export async function connectMcp(target: McpTarget): Promise<McpSession> {
  const env: Record<string, string> = { MESHSIG_HOME: target.home, PATH: process.env.PATH ?? '' }
  if (target.server !== undefined) env.MESHSIG_SERVER = target.server
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [target.main],
    env,
    stderr: 'pipe',
  })
  let err = ''
  transport.stderr?.on('data', (chunk: Buffer) => void (err += chunk.toString('utf8')))
  const client = new Client({ name: 'meshsig-test', version: '0.0.0' })
  await client.connect(transport)
  return {
    call: async (name, args = {}) => {
      const raw = (await client.callTool({ name, arguments: args })) as CallToolResult
      transcript.push(JSON.stringify(raw))
      return answerOf(raw)
    },
    listTools: async () => {
      const { tools } = await client.listTools()
      transcript.push(JSON.stringify(tools))
      return tools
    },
    stderr: () => err,
    close: () => client.close(),
  }
}
