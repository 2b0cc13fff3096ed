/**
 * A node URL with a user name and password (attack review 105 L2) (`MESHSIG_SERVER=https://ops:<password>@node…`, the
 * usual way to reach a node behind a reverse proxy with basic auth; api.md allows a remote node with
 * MESHSIG_TOKEN). The client's fetch refuses such a URL before connecting, and the CLI and the MCP server
 * reported it as UNREACHABLE "no meshsig node answers at http://ops:<password>@… (Request cannot be
 * constructed from a URL that includes credentials: http://ops:<password>@…/health); is it running?":
 * the password was printed in every error (stderr, --json, `details.server`) and handed to the model in
 * every MCP tool result, and the message blamed a node that may well be running. A URL with credentials
 * is refused as bad input (exit 2, as a --server that is no http(s) URL is) without repeating it.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { buildMcp, connectMcp } from '../mcp/mcp-fixture.js'

const SECRET = 's3cret-basic-auth-pw'
let cli: BuiltCli
let mcpBuilt: BuiltCli
let root: { dir: string; cleanup: () => void }

beforeAll(() => {
  cli = buildCli()
  mcpBuilt = buildMcp()
  root = tempDir('meshsig-r105-userinfo-')
}, 240_000)

afterAll(() => {
  cli?.cleanup()
  mcpBuilt?.cleanup()
  root?.cleanup()
})

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      env: { ...process.env, MESHSIG_HOME: join(root.dir, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.once('exit', (code) => resolve({ code, out }))
  })
}

describe('a --server / MESHSIG_SERVER with user:password@', () => {
  it('the CLI refuses it as bad input and does not print the password', async () => {
    const port = await freePort()
    for (const args of [['stats'], ['agents', '--json']]) {
      const r = await runCli([...args, '--server', `http://ops:${SECRET}@127.0.0.1:${port}`])
      const report = `meshsig ${args.join(' ')}: exit ${r.code}\n${r.out}`
      expect(r.out, report).not.toContain(SECRET)
      expect(r.code, report).toBe(2)
    }
  }, 60_000)

  it('the MCP server does not hand the password to the model', async () => {
    const port = await freePort()
    const mcp = await connectMcp({
      main: mcpBuilt.main,
      home: join(root.dir, 'mcp-home'),
      server: `http://ops:${SECRET}@127.0.0.1:${port}`,
    })
    try {
      const answers = [await mcp.call('meshsig_agents'), await mcp.call('meshsig_stats')]
      for (const a of answers) {
        const whole = JSON.stringify(a.raw)
        expect(whole, whole).not.toContain(SECRET)
        expect(whole, whole).toContain('INVALID_INPUT')
      }
    } finally {
      await mcp.close()
    }
  }, 60_000)
})

describe('the SDK client', () => {
  it('refuses a server URL with credentials at construction, without repeating them', async () => {
    const { MeshsigClient } = await import('../../api/client.js')
    let err: unknown
    try {
      new MeshsigClient({ server: `https://ops:${SECRET}@node.example` })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'INVALID_INPUT' })
    expect(JSON.stringify(err) + String(err)).not.toContain(SECRET)
    expect(() => new MeshsigClient({ server: 'https://node.example:4888' })).not.toThrow()
  })
})
