/**
 * Attack review (MCP, attacker = another local user, while the node is UP):
 * with the default MESHSIG_SERVER (http://localhost:4888) the tools that
 * send no token — meshsig_verify (cli/commands/verify.ts) and meshsig_audit
 * (cli/commands/audit-stream.ts fetchNdjson) — connect to whatever
 * `localhost` resolves to first. On a stock Debian/Ubuntu/Fedora/macOS host
 * /etc/hosts maps localhost to ::1 too, and ::1 comes first; the node binds
 * 127.0.0.1 only (node/config.ts), so [::1]:4888 is free for any local user
 * to take. Only the token-proven client rewrites localhost to 127.0.0.1
 * (api/client-http.ts withoutLocalhost). So while the real node runs, another
 * user's listener on [::1]:<port> answers meshsig_verify: a revoked agent's
 * signature comes back VALID, though the real node (which the same MCP server
 * reaches for meshsig_agents) knows it is revoked.
 *
 * This sandbox's /etc/hosts maps localhost to 127.0.0.1 only, so the MCP
 * server process gets a preload (fixtures/localhost-v6-first.cjs) that
 * resolves localhost as a stock /etc/hosts does. Nothing else is changed.
 *
 * The test states the safe behaviour; the verify case failed before every
 * client pinned localhost to 127.0.0.1 (decision 0055).
 */
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toB64, utf8 } from '../../node/core/encoding.js'
import { keyPairFromB64 } from '../../node/core/keys.js'
import { REPO_ROOT, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { startKeysMesh, type KeysMesh } from '../integration/keys-fixture.js'
import { buildMcp } from './mcp-fixture.js'

let built: BuiltCli
let mesh: KeysMesh
let root: { dir: string; cleanup: () => void }
let impostor: Server
let client: Client
const impostorSaw: string[] = []
let agent: { did: string; privateKey: string }

async function call(name: string, args: Record<string, unknown> = {}) {
  const raw = (await client.callTool({ name, arguments: args })) as CallToolResult
  const first = raw.content[0]
  return {
    isError: raw.isError === true,
    text: first?.type === 'text' ? first.text : '',
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    data: raw.structuredContent as any,
  }
}

beforeAll(async () => {
  built = buildMcp()
  mesh = await startKeysMesh(2)
  const port = Number(new URL(mesh.apis[0]!.url).port)
  // an agent of the node whose key leaked: its operator revoked it on the (running) node
  const r = await mesh.call(0, 'POST', '/agents/register', { name: 'payments', capabilities: [{ type: 'payments' }] })
  agent = { did: r.body.identity.did, privateKey: r.body.identity.privateKey }
  expect((await mesh.call(0, 'POST', '/agents/revoke', { did: agent.did, reason: 'Key leaked' })).status).toBe(200)
  // another local user: a listener on [::1] at the node's own port
  impostor = createServer((req, res) => {
    impostorSaw.push(`${req.method} ${req.url}`)
    res.setHeader('content-type', 'application/json')
    if ((req.url ?? '').startsWith('/keys/')) return res.end(JSON.stringify({ known: false }))
    res.statusCode = 404
    res.end(JSON.stringify({ error: 'not found', code: 'NOT_FOUND' }))
  })
  await new Promise<void>((ok) => impostor.listen(port, '::1', ok))
  root = tempDir('meshsig-mcp-review-v6-')
  const home = join(root.dir, 'home')
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [built.main],
    env: {
      MESHSIG_HOME: home,
      MESHSIG_SERVER: `http://localhost:${port}`,
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: `--require ${resolve(REPO_ROOT, 'test/mcp/fixtures/localhost-v6-first.cjs')}`,
    },
    stderr: 'pipe',
  })
  client = new Client({ name: 'review', version: '0.0.0' })
  await client.connect(transport)
  expect((await call('meshsig_init')).isError).toBe(false)
  // the MCP server's user is the node's operator: the node's token is in its home
  writeFileSync(join(home, 'api-token'), mesh.token + '\n', { mode: 0o600 })
}, 180_000)

afterAll(async () => {
  await client?.close()
  await new Promise<void>((ok) => impostor?.close(() => ok()))
  await mesh?.stop()
  built?.cleanup()
  root?.cleanup()
})

describe('review: MESHSIG_SERVER=http://localhost:<port> with another user on [::1]:<port>', () => {
  it('F6 meshsig_agents reaches the real node (token proven, 127.0.0.1) and shows the agent revoked', async () => {
    const a = await call('meshsig_agents')
    expect(a.isError).toBe(false)
    expect(a.data.agents.find((x: { did: string }) => x.did === agent.did)?.status).toBe('revoked')
  })

  it('F6 meshsig_verify asks the [::1] listener instead and reports the revoked agent’s signature VALID', async () => {
    const message = 'Pay invoice 4711'
    const signature = toB64(keyPairFromB64(agent.privateKey).sign(utf8(message)))
    const v = await call('meshsig_verify', { message, signature, signer: agent.did })
    const report = `${v.text}\nthe [::1] listener saw: ${impostorSaw.join(', ')}`
    // safe: the same node meshsig_agents talks to decides: REVOKED
    expect(v.data?.valid, report).toBe(false)
    expect(v.data?.code, report).toBe('REVOKED')
  })

  it('F6 meshsig_audit and a bare-key revoke argument reach the real node too; the [::1] listener sees nothing', async () => {
    const a = await call('meshsig_audit')
    expect(a.isError, a.text).toBe(false)
    expect(a.data.node.did).toBe(mesh.nodes[0]!.did)
    // a bare b64 key as the DID is looked up at the node (didArgument's probe), never at [::1]
    const key = toB64(keyPairFromB64(agent.privateKey).publicKey)
    const r = await call('meshsig_revoke', { did: key, reason: 'again' })
    expect(r.data?.code, r.text).toBe('REVOKED')
    expect(impostorSaw).toEqual([])
  })
})
