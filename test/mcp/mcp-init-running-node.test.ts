/**
 * `meshsig_init {force: true}` on the home of a running node (review 71, F4).
 * docs/mcp.md sets the MCP server up on the same MESHSIG_HOME as
 * `meshsig start`; a prompt-injected model's one call replaced the running
 * node's identity (the key that controls every agent it hosts and signs its
 * audit log, with no copy kept) and its operator token, although the node
 * holds `<home>/node.lock` (decision 0042). It is refused now, and nothing in
 * the home changes.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { buildMcp, connectMcp, type McpSession } from './mcp-fixture.js'

let cli: BuiltCli
let built: BuiltCli
let root: { dir: string; cleanup: () => void }
let home: string
let node: NodeProcess | undefined
let mcp: McpSession

beforeAll(async () => {
  cli = buildCli()
  built = buildMcp()
  root = tempDir('meshsig-mcp-init-running-')
  home = join(root.dir, 'home')
  const port = await freePort()
  mcp = await connectMcp({ main: built.main, home, server: `http://127.0.0.1:${port}` })
  expect((await mcp.call('meshsig_init')).isError).toBe(false)
  node = startProcess(cli, home, port)
  await waitFor(
    async () => {
      try {
        return (await getJson<{ mesh?: string }>(`${node!.url}/health`)).mesh === 'ready' // its store holds the home
      } catch {
        return false
      }
    },
    { timeout: 60_000, message: 'the node starts' },
  )
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

describe('meshsig_init force on the home of a running node', () => {
  it('is refused while the node holds the home, and changes nothing in it', async () => {
    const identityBefore = readFileSync(join(home, 'identity.json'), 'utf8')
    const tokenBefore = readFileSync(join(home, 'api-token'), 'utf8')
    const health = await getJson<{ did: string }>(`${node!.url}/health`)
    expect(JSON.parse(identityBefore).did).toBe(health.did)

    const r = await mcp.call('meshsig_init', { force: true })

    const identityAfter = readFileSync(join(home, 'identity.json'), 'utf8')
    const tokenAfter = readFileSync(join(home, 'api-token'), 'utf8')
    const report = [
      `isError=${r.isError} code=${r.data?.code}`,
      `node DID (running):      ${health.did}`,
      `home DID after the call: ${JSON.parse(identityAfter).did}`,
      `api-token replaced:      ${tokenAfter !== tokenBefore}`,
    ].join('\n')
    // safe: refused while a node holds the home (its node.lock), and nothing in the home changed
    expect(r.isError, report).toBe(true)
    expect(identityAfter, report).toBe(identityBefore)
    expect(tokenAfter, report).toBe(tokenBefore)
  })
})
