#!/usr/bin/env node
/**
 * The `meshsig` executable: polyfills first, then the CLI on the real
 * process. The exit code is set, not forced, so output is flushed.
 * `meshsig start` loads the polyfills (only libp2p needs them) itself, after
 * it has bound its API port, so `/health` answers sooner (issue 13).
 */
if (process.argv[2] !== 'start') await import('../node/polyfill.js')
const { runCli } = await import('./app.js')
const { processIo } = await import('./process-io.js')

process.exitCode = await runCli(process.argv, processIo())
