/**
 * The CLI as a function: `runCli(argv, io)` parses argv with cac, runs the
 * matched command and prints through `output.ts`, returning the exit code.
 * `main.ts` calls it with the real process; tests may call it in-process.
 */
import type { CAC } from 'cac'
import { registerAllCommands } from './commands/index.js'
import type { CliIo, CliRuntime } from './context.js'
import { buildCliWith, runCliWith } from './run.js'

/** Build the cac program with global options and every registered command. */
export function buildCli(rt: CliRuntime): CAC {
  return buildCliWith(rt, registerAllCommands)
}

/** Run the CLI on `argv` (`node`, script, then arguments) and return the exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCliWith(argv, io, registerAllCommands)
}
