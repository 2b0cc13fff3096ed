#!/usr/bin/env node
/**
 * The `meshsig` executable: polyfills first, then the CLI on the real
 * process. The exit code is set, not forced, so output is flushed.
 * `meshsig start` loads the polyfills (only libp2p needs them) itself, after
 * it has bound its API port, so `/health` answers sooner (issue 13), and
 * registers only the `start` command (the others are not even loaded).
 */
const start = process.argv[2] === 'start'
if (!start) await import('../node/polyfill.js')
const { runCliWith } = await import('./run.js')
// `start` loads only its own command: the API port is bound before the other commands are read
const register = start
  ? (await import('./commands/start.js')).registerStart
  : (await import('./commands/index.js')).registerAllCommands
const { processIo } = await import('./process-io.js')

process.exitCode = await runCliWith(process.argv, processIo(), register)
