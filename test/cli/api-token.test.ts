/**
 * The CLI sends the API token from $MESHSIG_HOME only to a node on this
 * machine (a loopback host) that first proves it holds it (api/token-proof.ts:
 * another local user's listener cannot, nor by relaying the real node's); a node on another host gets a token only when it
 * is given explicitly (MESHSIG_TOKEN). The decision function, then real CLI
 * processes against a fake node that records the Authorization header.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isLoopbackServer, tokenFor } from '../../cli/api-client.js'
import type { CliContext } from '../../cli/context.js'
import { MeshsigClient } from '../../api/client.js'
import { endpointOf, TOKEN_CHALLENGE_HEADER, TOKEN_PROOF_HEADER, tokenProof } from '../../api/token-proof.js'
import { createApiToken } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'
import { buildCli, type BuiltCli } from './build-cli.js'

describe('isLoopbackServer', () => {
  it.each([
    'http://127.0.0.1:4888',
    'http://127.0.0.2:4888',
    'http://127.255.255.254',
    'http://127.1:4888',
    'http://localhost:4888',
    'http://LOCALHOST.:4888/',
    'http://[::1]:4888',
    'http://[0:0:0:0:0:0:0:1]:4888',
    'http://[::ffff:127.0.0.1]:4888',
    'https://localhost',
  ])('%s is loopback', (url) => expect(isLoopbackServer(url)).toBe(true))

  it.each([
    'http://10.0.0.5:4888',
    'http://192.168.1.2:4888',
    'http://0.0.0.0:4888',
    'http://128.0.0.1:4888',
    'https://node.example.com',
    'http://localhost.example.com:4888',
    'http://127.0.0.1.evil.example:4888',
    'http://evil.example/?x=http://127.0.0.1',
    'http://127.0.0.1@evil.example:4888',
    'http://[::2]:4888',
    'http://[::ffff:10.0.0.1]:4888',
    'not a url',
    '',
  ])('%s is not loopback', (url) => expect(isLoopbackServer(url)).toBe(false))
})

describe('tokenFor', () => {
  const dir = tempDir('meshsig-token-for-')
  const home = join(dir.dir, 'home')
  let homeToken = ''
  beforeAll(() => {
    homeToken = createApiToken(home)
  })
  afterAll(() => dir.cleanup())
  const ctx = (server: string, env: Record<string, string> = {}): CliContext => ({
    json: true,
    home,
    server,
    io: { stdout: () => {}, stderr: () => {}, readStdin: async () => new Uint8Array(), env, now: () => Date.now() },
  })

  it("the home's token goes to a loopback server only", () => {
    expect(tokenFor(ctx('http://127.0.0.1:4888'))).toBe(homeToken)
    expect(tokenFor(ctx('http://localhost:4888'))).toBe(homeToken)
    expect(tokenFor(ctx('https://node.example.com'))).toBeUndefined()
    expect(tokenFor(ctx('http://10.1.2.3:4888'))).toBeUndefined()
  })

  it('MESHSIG_TOKEN is sent to the server named, loopback or not', () => {
    expect(tokenFor(ctx('https://node.example.com', { MESHSIG_TOKEN: 'remote-token' }))).toBe('remote-token')
    expect(tokenFor(ctx('http://127.0.0.1:4888', { MESHSIG_TOKEN: 'remote-token' }))).toBe('remote-token')
  })
})

describe('meshsig agents as a process: which Authorization header the node gets', () => {
  let cli: BuiltCli
  const dir = tempDir('meshsig-token-cli-')
  const home = join(dir.dir, 'home')
  let homeToken = ''
  const servers: Server[] = []
  const seen: Array<{ host: string; authorization: string | undefined }> = []

  /**
   * A fake node on `host` that records what it gets. `holds`: it answers the token proof as the node does
   * (api/token-proof.ts); `relayTo`: it fetches the proof for the client's challenge from that server.
   */
  async function fakeNode(host: string, how: { holds?: string; relayTo?: string } = {}, port = 0): Promise<string> {
    const server = createServer((req, res) => {
      void (async () => {
        const challenge = req.headers[TOKEN_CHALLENGE_HEADER]
        if (req.url === '/health' && typeof challenge === 'string') {
          if (how.holds !== undefined) {
            const { localAddress, localPort } = req.socket
            res.setHeader(TOKEN_PROOF_HEADER, tokenProof(how.holds, endpointOf(localAddress!, localPort!), challenge))
          }
          if (how.relayTo !== undefined) {
            const relayed = await fetch(`${how.relayTo}/health`, { headers: { [TOKEN_CHALLENGE_HEADER]: challenge } })
            res.setHeader(TOKEN_PROOF_HEADER, relayed.headers.get(TOKEN_PROOF_HEADER) ?? '')
          }
          res.writeHead(200, { 'content-type': 'application/json' })
          return res.end('{}')
        }
        seen.push({ host, authorization: req.headers.authorization })
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ agents: [], total: 0 }))
      })()
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(port, host, resolve))
    return `http://${host}:${(server.address() as AddressInfo).port}`
  }

  function meshsig(args: string[], env: Record<string, string> = {}): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli.main, ...args], {
        env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home, ...env },
        stdio: ['ignore', 'ignore', 'ignore'],
      })
      child.on('error', reject)
      child.on('close', resolve)
    })
  }

  beforeAll(() => {
    cli = buildCli()
    homeToken = createApiToken(home)
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    cli?.cleanup()
    dir.cleanup()
  })

  it("MESHSIG_SERVER=http://127.0.0.1:<port> of a node that proves it holds the token: the home's token IS sent", async () => {
    const url = await fakeNode('127.0.0.1', { holds: homeToken })
    seen.length = 0
    expect(await meshsig(['agents', '--json'], { MESHSIG_SERVER: url })).toBe(0)
    expect(seen).toEqual([{ host: '127.0.0.1', authorization: `Bearer ${homeToken}` }])
    // localhost is spoken to as 127.0.0.1, the address the proof names
    seen.length = 0
    const local = url.replace('127.0.0.1', 'localhost')
    expect(await meshsig(['agents', '--json', '--server', local])).toBe(0)
    expect(seen).toEqual([{ host: '127.0.0.1', authorization: `Bearer ${homeToken}` }])
  })

  it('another local listener on loopback that cannot prove it, or relays the proof of the real node: nothing sent, NODE_UNPROVEN (exit 3)', async () => {
    const node = await fakeNode('127.0.0.1', { holds: homeToken })
    for (const squatter of [await fakeNode('127.0.0.1'), await fakeNode('127.0.0.1', { relayTo: node })]) {
      seen.length = 0
      // an unproven server is not the node (decision 0055): no request after the proof, no answer used
      expect(await meshsig(['agents', '--json', '--server', squatter])).toBe(3)
      expect(seen).toEqual([])
      // MESHSIG_TOKEN on loopback is proven the same way
      expect(await meshsig(['agents', '--json', '--server', squatter], { MESHSIG_TOKEN: homeToken })).toBe(3)
      expect(seen).toEqual([])
    }
  })

  it('a long-lived SDK client with proveToken proves again: a listener that took the port after the node left gets no token', async () => {
    const url = await fakeNode('127.0.0.1', { holds: homeToken })
    const client = new MeshsigClient({ server: url, token: homeToken, proveToken: true })
    seen.length = 0
    await client.agents()
    expect(seen).toEqual([{ host: '127.0.0.1', authorization: `Bearer ${homeToken}` }])
    // the node stops; another local user listens on its port
    const node = servers.pop()!
    node.closeAllConnections()
    await new Promise((resolve) => node.close(resolve))
    const squatter = await fakeNode('127.0.0.1', {}, Number(new URL(url).port))
    expect(squatter).toBe(url)
    seen.length = 0
    await new Promise((resolve) => setTimeout(resolve, 2_100)) // past the proof's lifetime
    // (a kept-alive connection the node closed may fail the first request: the proof is then asked again)
    const codes: unknown[] = []
    for (let i = 0; i < 2; i++) await client.agents().catch((err: { code?: unknown }) => codes.push(err.code))
    // nothing goes to it, not even without the token, and its answers are not used (decision 0055)
    expect(seen).toEqual([])
    expect(codes.at(-1)).toBe('NODE_UNPROVEN')
  })

  // a non-loopback address of this machine, when it has one (a container may have only loopback)
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address
  it.skipIf(external === undefined)(
    "a server on a non-loopback address gets no token from the home, only MESHSIG_TOKEN's",
    async () => {
      const url = await fakeNode(external!)
      seen.length = 0
      expect(await meshsig(['agents', '--json', '--server', url])).toBe(0)
      expect(seen).toEqual([{ host: external, authorization: undefined }])
      seen.length = 0
      expect(await meshsig(['agents', '--json', '--server', url], { MESHSIG_TOKEN: 'given-for-remote' })).toBe(0)
      expect(seen).toEqual([{ host: external, authorization: 'Bearer given-for-remote' }])
    },
  )
})
