#!/usr/bin/env node
/**
 * The `meshsig-mcp` executable: polyfills first, then the meshsig MCP server
 * on standard input and output. Standard output carries only the protocol,
 * so console output is sent to standard error. It stops when the client
 * closes the connection.
 */
// the polyfills evaluate before any of the server's modules, also in the bundle (decision 0031)
await import('../../node/polyfill.js')
const { serveStdio } = await import('./server.js')

const toStderr = (...args: unknown[]): void => console.error(...args)
console.log = toStderr
console.info = toStderr
console.debug = toStderr

try {
  await serveStdio(process.env)
} catch (err) {
  process.stderr.write(`meshsig-mcp: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
}
