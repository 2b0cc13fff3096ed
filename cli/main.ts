#!/usr/bin/env node
import '../node/polyfill.js'
/**
 * The `meshsig` executable: polyfills first, then the CLI on the real
 * process. The exit code is set, not forced, so output is flushed.
 */
import { runCli } from './app.js'
import { processIo } from './process-io.js'

process.exitCode = await runCli(process.argv, processIo())
