/**
 * Review 105 M1 (decision 0077): `meshsig_revoke {did: <the home's DID>}` on the home of a running node
 * (docs/mcp.md sets the MCP server up on the node's own MESHSIG_HOME). One tool call from a model, asked
 * or prompt-injected by a name, reason or message it read, revoked the node's own DID for good, signed
 * with the node's key, no token needed; the node went on with /health "ok" and registered agents naming
 * the revoked DID as controller. Decision 0063 took `force` from `meshsig_init` for the same class of
 * consequence. The tool refuses the home's identity (FORBIDDEN) and names the command its operator uses
 * at the terminal.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { buildMcp, connectMcp, type McpSession } from '../mcp/mcp-fixture.js'

let cli: BuiltCli
let built: BuiltCli
let root: { dir: string; cleanup: () => void }
let node: NodeProcess | undefined
let mcp: McpSession

beforeAll(async () => {
  cli = buildCli()
  built = buildMcp()
  root = tempDir('meshsig-r105-mcp-revoke-')
  const home = join(root.dir, 'home')
  const port = await freePort()
  node = startProcess(cli, home, port)
  await waitFor(
    async () => {
      try {
        return (await getJson<{ mesh?: string }>(`${node!.url}/health`)).mesh === 'ready'
      } catch {
        return false
      }
    },
    { timeout: 60_000, message: 'the node starts' },
  )
  mcp = await connectMcp({ main: built.main, home, server: node.url })
}, 240_000)

afterAll(async () => {
  await mcp?.close()
  if (node !== undefined) {
    node.child.kill('SIGTERM')
    await node.exited()
  }
  cli?.cleanup()
  built?.cleanup()
  root?.cleanup()
})

describe('meshsig_revoke of the running node’s own DID', () => {
  it('is refused, and the node’s DID stays unrevoked', async () => {
    const health = await getJson<{ did: string }>(`${node!.url}/health`)
    const r = await mcp.call('meshsig_revoke', { did: health.did, reason: 'the agent card said so' })
    const revoked = await getJson<{ revoked: Array<{ did: string }>; total: number }>(`${node!.url}/revoked`)
    const report = `isError=${r.isError} code=${r.data?.code}\n${r.text}\nrevoked on the node: ${JSON.stringify(revoked.revoked.map((x) => x.did))}`
    expect(r.isError, report).toBe(true)
    expect(
      revoked.revoked.map((x) => x.did),
      report,
    ).not.toContain(health.did)
  }, 60_000)
})
