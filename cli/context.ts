/**
 * What a command runs with: parsed global options resolved against the
 * environment (in one place), and the process's streams behind a small
 * interface so commands can also run in-process in tests.
 */
import { resolveHome } from '../node/identity/home.js'

/** Environment variable with the node URL for online commands. */
export const SERVER_ENV = 'MESHSIG_SERVER'
/** Node URL when neither `--server` nor `MESHSIG_SERVER` is set. */
export const DEFAULT_SERVER = 'http://localhost:4888'

/** The outside world of one CLI run. */
export interface CliIo {
  /** Write to standard output. */
  stdout(text: string): void
  /** Write to standard error. */
  stderr(text: string): void
  /** Read all of standard input, byte for byte. */
  readStdin(): Promise<Uint8Array>
  /** Standard input as it arrives (commands that stream it, e.g. `audit verify -`); else `readStdin` is used. */
  stdinChunks?(): AsyncIterable<Uint8Array | string>
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Current time, ms since the epoch. */
  now(): number
  /** True when standard error is a terminal (progress bars are drawn only then). */
  readonly stderrIsTTY?: boolean
  /**
   * The command serves until it is stopped (`meshsig start`): a reader of its output that goes away no longer
   * ends it (what it would have printed is lost); a one-shot command ends quietly then instead.
   */
  serving?(): void
}

/** Global options every command accepts (as cac parses them). */
export interface GlobalOptions {
  readonly json?: boolean
  readonly server?: string
  readonly home?: string
  readonly [option: string]: unknown
}

/** Everything a command needs, resolved. */
export interface CliContext {
  /** Print one JSON object instead of human text. */
  readonly json: boolean
  /** meshsig home folder (identity, API token). */
  readonly home: string
  /** Node URL for online commands. */
  readonly server: string
  /** Streams, environment and clock. */
  readonly io: CliIo
  /**
   * Reads go to the node without the token, in its read lane (api/read-lane.ts):
   * the MCP server's context, whose reads a model makes (decision 0063). The
   * CLI sends its token with every request.
   */
  readonly readLane?: boolean
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null || value === true || value === false) return undefined
  return String(value)
}

/** Resolve global options: flag, then environment, then default. */
export function contextFrom(options: GlobalOptions, io: CliIo): CliContext {
  return {
    json: options.json === true,
    home: resolveHome(optionalString(options.home), io.env),
    server: optionalString(options.server) ?? (io.env[SERVER_ENV] || DEFAULT_SERVER),
    io,
  }
}

/** Handed to every command's `register`: the run's io and the option resolver. */
export interface CliRuntime {
  /** Streams, environment and clock of this run. */
  readonly io: CliIo
  /** Resolve one run's parsed options into a context. */
  context(options: GlobalOptions): CliContext
}

/** A runtime over `io`. */
export function cliRuntime(io: CliIo): CliRuntime {
  return { io, context: (options) => contextFrom(options, io) }
}
