/**
 * How a meshsig MCP tool is declared and how its answers are shaped. A tool
 * is a name, a description, a strict zod input schema (unknown fields are
 * refused) and a `run` over the shared service layer (the CLI's command
 * functions and the SDK's HTTP client). Every answer is a tool result: a
 * short human text plus `structuredContent`; every failure is a tool result
 * with `isError: true` and `{error, code}` (a `MeshsigError` code), never a
 * thrown error, never a stack trace.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { AnySchema } from '@modelcontextprotocol/sdk/server/zod-compat.js'
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import type * as z from 'zod'
import type { CliContext } from '../../cli/context.js'
import { oneLine } from '../../node/core/untrusted-text.js'
import { FAIL, describeError, printable, type CommandResult } from '../../cli/output.js'

/** What a tool's `run` hands back. */
export interface ToolOutcome {
  /** A short human text (the first content block). */
  readonly text: string
  /** The same answer as JSON (`structuredContent`). */
  readonly data?: Readonly<Record<string, unknown>>
  /** True when the answer is a refusal (its `data` then holds `{error, code}`). */
  readonly isError?: boolean
}

/** The declaration of one tool, typed by its input schema. */
export interface ToolSpec<S extends z.ZodObject> {
  /** Tool name, `meshsig_*`. */
  readonly name: string
  /** Short display title. */
  readonly title: string
  /** What the tool does, for the model that picks it. */
  readonly description: string
  /** Strict zod object schema of the arguments. */
  readonly input: S
  /** MCP behaviour hints (read-only, destructive, open world). */
  readonly annotations: ToolAnnotations
  /**
   * Do the work; may throw (the error becomes an `isError` result). `signal`
   * aborts when the client cancels the request (or gives up on it).
   */
  run(ctx: CliContext, args: z.output<S>, signal?: AbortSignal): Promise<ToolOutcome>
}

/** A declared tool, ready to be registered on a server. */
export interface McpTool {
  /** Tool name. */
  readonly name: string
  /** Register the tool on `server`, running with `ctx`. */
  register(server: McpServer, ctx: CliContext): void
}

/** The `structuredContent` of a failure. */
export type ToolErrorData = {
  readonly error: string
  readonly code: string
  readonly details?: unknown
}

/** A tool result from an outcome. */
export function toolResult(outcome: ToolOutcome): CallToolResult {
  return {
    content: [{ type: 'text', text: outcome.text }],
    ...(outcome.data !== undefined ? { structuredContent: { ...outcome.data } } : {}),
    ...(outcome.isError === true ? { isError: true } : {}),
  }
}

/** The error result of anything thrown: message and code (`INTERNAL` for unknown errors), no stack. */
export function toolError(err: unknown): CallToolResult {
  const { message, code, details } = describeError(err)
  const data: ToolErrorData = { error: message, code, ...(details !== undefined ? { details } : {}) }
  return toolResult({ text: `${FAIL} ${oneLine(message)} (${code})`, data, isError: true })
}

/**
 * An outcome from a CLI command's result: its human text, `printable` as the
 * CLI prints it (the values from the network in it are quoted on one line by
 * the command), and its JSON.
 */
export function fromCommand(result: CommandResult, isError = false): ToolOutcome {
  return { text: printable(result.human), data: result.json, ...(isError ? { isError } : {}) }
}

/** Run `work` and turn whatever it throws into an error result. */
export async function runSafely(work: () => Promise<ToolOutcome>): Promise<CallToolResult> {
  try {
    return toolResult(await work())
  } catch (err) {
    return toolError(err)
  }
}

/** Declare a tool. */
export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): McpTool {
  return {
    name: spec.name,
    register(server, ctx) {
      // Widened so the SDK's callback type resolves; it validates the arguments against `spec.input` first.
      const inputSchema: AnySchema = spec.input
      const config = { title: spec.title, description: spec.description, inputSchema, annotations: spec.annotations }
      server.registerTool(spec.name, config, (args, extra) =>
        runSafely(() => spec.run(ctx, args as z.output<S>, extra.signal)),
      )
    },
  }
}
