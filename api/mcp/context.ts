/**
 * What the MCP tools run with: the CLI's own context (home folder and node
 * URL resolved from the environment exactly as the CLI resolves them), over
 * an io that suits a stdio MCP server. Standard output carries the protocol,
 * so nothing a command might print goes there, and there is no stdin to read
 * a message from: a message argument is always literal text ("-" included).
 */
import { utf8 } from '../../node/core/encoding.js'
import { contextFrom, type CliContext, type CliIo } from '../../cli/context.js'
import { STDIN_ARG } from '../../cli/message.js'

/** Where the MCP server writes diagnostics (never standard output). */
export type DiagnosticSink = (text: string) => void

/**
 * The io of the MCP server: `stdout` and `stderr` both go to `log` (standard
 * error by default), and "reading stdin" yields the bytes of "-", so the
 * CLI's message helper signs and verifies "-" as the text it is.
 */
export function mcpIo(
  env: Readonly<Record<string, string | undefined>>,
  log: DiagnosticSink = (text) => void process.stderr.write(text),
  now: () => number = Date.now,
): CliIo {
  return {
    stdout: log,
    stderr: log,
    readStdin: async () => utf8(STDIN_ARG),
    env,
    now,
    stderrIsTTY: false,
  }
}

/**
 * The context every tool runs with: `MESHSIG_HOME` (default ~/.meshsig) and
 * `MESHSIG_SERVER` (default http://localhost:4888), as for the CLI. Its reads
 * go in the token's read lane, not on the token (decision 0063): a model
 * looping on a read tool must not spend the rate-limit budget of the
 * operator's own actions.
 */
export function mcpContext(env: Readonly<Record<string, string | undefined>>, log?: DiagnosticSink): CliContext {
  return { ...contextFrom({}, mcpIo(env, log)), readLane: true }
}
