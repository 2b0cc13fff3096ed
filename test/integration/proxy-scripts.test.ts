// The bash scripts: deploy-proxy.sh refuses bad input (ports, uids, agent names) before touching iptables
// and finds an agent's listener only in the node's proxy.json; register-agent.sh and unregister-agent.sh
// drive the REST API with jq-built bodies, whatever the agent name holds, and send the home's API token
// only to a server that proved it holds it (decision 0034).
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { REPO_ROOT } from '../cli/build-cli.js'

const run = promisify(execFile)
const scripts = join(REPO_ROOT, 'scripts')

async function script(
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
  wrap: readonly string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [command = 'bash', ...rest] = [...wrap, 'bash']
  try {
    const { stdout, stderr } = await run(command, [...rest, join(scripts, name), ...args], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('deploy-proxy.sh input checks (before any iptables call)', () => {
  it.each([
    ['0'],
    ['65536'],
    ['3001;id'],
    ['$(id)'],
    ['--proxy-port', 'x', '3001'],
    ['--proxy-source', '1.2.3', '3001'],
  ])('refuses %j with exit 2', async (...args) => {
    const r = await script('deploy-proxy.sh', args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/must be|usage/)
  })

  it('refuses a proxy port equal to the gateway port, and no arguments', async () => {
    expect((await script('deploy-proxy.sh', ['--proxy-port', '3001', '3001'])).stderr).toMatch(/must differ/)
    expect((await script('deploy-proxy.sh', [])).code).toBe(2)
  })

  it.each([
    [['--agent', 'x;id', '--uid', '1001', '3001'], /--agent must be/],
    [['--agent', '$(touch /tmp/pwned)', '--uid', '1001', '3001'], /--agent must be/],
    [['--agent', '-rf', '--uid', '1001', '3001'], /--agent must be/],
    [['--agent', 'a'.repeat(65), '--uid', '1001', '3001'], /--agent must be/],
    [['--agent', 'alice', '--uid', '0', '3001'], /--uid must be .*root/],
    [['--agent', 'alice', '--uid', '4294967295', '3001'], /--uid must be/],
    [['--agent', 'alice', '--uid', '1001x', '3001'], /--uid must be/],
    [['--agent', 'alice', '--uid', '-1', '3001'], /--uid must be/],
    [['--uid', '1001', '3001'], /--uid goes with --agent/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await script('deploy-proxy.sh', args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })
})

// As root: the agent's port comes from proxy.json, and a lookup that fails stops before any iptables call.
// The script runs in a throwaway network namespace (unshare -n), so even a bug cannot touch this host's rules.
const canUnshare = process.getuid?.() === 0 && existsSync('/usr/bin/unshare')

describe.skipIf(!canUnshare)('deploy-proxy.sh --agent reads the listener port from proxy.json', () => {
  let home: string
  const did = 'did:msig:' + 'A'.repeat(44)

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'meshsig-deploy-'))
    const agents = [
      { did, name: 'alice', port: 4890, uid: 1001 },
      { did: 'did:msig:' + 'B'.repeat(44), name: 'twin', port: 4891, uid: 1002 },
      { did: 'did:msig:' + 'C'.repeat(44), name: 'twin', port: 4892, uid: 1003 },
    ]
    const state = { v: 2, listenPort: 4889, gateway: { host: '127.0.0.1', port: 3001 }, agents }
    writeFileSync(join(home, 'proxy.json'), JSON.stringify(state))
  })

  afterAll(() => rmSync(home, { recursive: true, force: true }))

  const deploy = (...args: string[]): ReturnType<typeof script> =>
    script('deploy-proxy.sh', ['--home', home, ...args], {}, ['unshare', '-n'])

  it.each([
    [['--agent', 'bob', '--uid', '1001', '3001'], /no listener for agent 'bob'/],
    [['--agent', 'twin', '--uid', '1001', '3001'], /several agents are called 'twin'.*DID/],
    [['--agent', 'alice', '--uid', '1001', '3002'], /does not forward to port 3002/],
    [['--remove', '3001', '--agent', 'bob'], /no listener for agent 'bob'/],
    // the uid is the node's (--proxy-agent <did>=<port>:<uid>, in proxy.json): the script cannot give another
    [['--agent', 'alice', '--uid', '1002', '3001'], /serves agent 'alice' to uid 1001 only \(proxy\.json\)/, 2],
    // the default listener's port is proxy.json's, for the gateway it forwards to (found by the attack review)
    [['5432'], /forwards to port 3001, not 5432/],
  ])('%j fails with a clear message', async (args, message, code = 1) => {
    const r = await deploy(...args)
    expect(r.code).toBe(code)
    expect(r.stderr).toMatch(message)
  })

  it('a proxy.json that names no uids (an older node wrote it) is refused, but for --remove: the node must say them', async () => {
    const older = mkdtempSync(join(tmpdir(), 'meshsig-deploy-v1-'))
    try {
      const state = {
        v: 1,
        listenPort: 4889,
        gateway: { host: '127.0.0.1', port: 3001 },
        agents: [{ did, name: 'alice', port: 4890 }],
      }
      writeFileSync(join(older, 'proxy.json'), JSON.stringify(state))
      const r = await script('deploy-proxy.sh', ['--home', older, '--agent', 'alice', '3001'], {}, ['unshare', '-n'])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/names no uids .*--proxy-agent <did>=<port>:<uid>/)
      // removing needs only the port, which the older file names: its rules can go before the node restarts
      const removed = await script('deploy-proxy.sh', ['--home', older, '--remove', '3001', '--agent', 'alice'], {}, [
        'unshare',
        '-n',
      ])
      expect(removed).toMatchObject({ code: 0, stdout: expect.stringMatching(/removed 0 meshsig proxy rule/) })
    } finally {
      rmSync(older, { recursive: true, force: true })
    }
  })

  it('the default listener without proxy.json needs --proxy-port: no guessed port', async () => {
    const r = await script('deploy-proxy.sh', ['--home', tmpdir() + '/nowhere', '3001'], {}, ['unshare', '-n'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot read .*proxy\.json.*--proxy-port/)
  })

  it("the answer guards need the node's user: --proxy-uid or proxy.json's owner, never one that contradicts it", async () => {
    const nowhere = await script(
      'deploy-proxy.sh',
      ['--home', tmpdir() + '/nowhere', '--proxy-port', '4889', '3001'],
      {},
      ['unshare', '-n'],
    )
    expect(nowhere.code).toBe(1)
    expect(nowhere.stderr).toMatch(/cannot tell which user the node runs as .*--proxy-uid/)
    const wrong = await deploy('--proxy-uid', '4242', '3001')
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/--proxy-uid 4242 is not the user the node runs as: .*proxy\.json belongs to uid 0/)
  })

  // attack review 93 (F8): that "agent" could read every custodied key and answer on every listener port
  it("refuses an agent uid that is the node's own user (the owner of proxy.json)", async () => {
    const own = mkdtempSync(join(tmpdir(), 'meshsig-deploy-own-'))
    try {
      const agents = [{ did, name: 'alice', port: 4890, uid: 61941 }]
      writeFileSync(
        join(own, 'proxy.json'),
        JSON.stringify({ v: 2, gateway: { host: '127.0.0.1', port: 3001 }, agents }),
      )
      chownSync(join(own, 'proxy.json'), 61941, 61941) // the node runs as uid 61941
      const r = await script('deploy-proxy.sh', ['--home', own, '--agent', 'alice', '3001'], {}, ['unshare', '-n'])
      expect(r.code).toBe(2) // before the fix: 0, "installed: uid 61941's connections … go to the agent listener"
      expect(r.stderr).toMatch(/uid 61941 is the node's own user .*can read every custodied key/)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  it('refuses a home without proxy.json', async () => {
    const r = await script('deploy-proxy.sh', ['--home', tmpdir() + '/nowhere', '--agent', did, '--uid', '7', '3001'])
    expect(r.stderr).toMatch(/cannot read .*proxy\.json/)
  })
})

describe('register-agent.sh / unregister-agent.sh', () => {
  let fx: ApiFixture
  let tmp: string
  let env: Record<string, string>

  beforeAll(async () => {
    fx = await startApi()
    tmp = mkdtempSync(join(tmpdir(), 'meshsig-scripts-'))
    env = { MESHSIG_SERVER: fx.url, MESHSIG_HOME: tmp, TMPDIR: tmp }
    // the operator token, where the scripts read it (revocation needs it, on loopback too)
    const token = (fx as { token?: string }).token
    if (token !== undefined) writeFileSync(join(tmp, 'api-token'), token + '\n', { mode: 0o600 })
  })

  afterAll(async () => {
    await fx?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('registers a custodied agent with a hostile name, prints no private key, leaves no temp file', async () => {
    const name = `x"; $(touch ${join(tmp, 'pwned')}); '\\`
    const r = await script('register-agent.sh', ['--capability', 'analysis', name], env)
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as { did: string; name: string }
    expect(out.name).toBe(name)
    expect(r.stdout).not.toMatch(/privateKey/)
    expect(fx.node.agents.record(out.did)?.capabilities).toEqual([{ type: 'analysis' }])
    expect(fx.node.proxySigner(out.did)?.did).toBe(out.did)
    expect(readdirSync(tmp).filter((f) => f !== 'api-token')).toEqual([])
  })

  it('unregisters by name (revocation), and refuses an unknown name', async () => {
    const reg = JSON.parse((await script('register-agent.sh', ['leaving'], env)).stdout) as { did: string }
    const r = await script('unregister-agent.sh', ['--reason', 'decommissioned', 'leaving'], env)
    expect(JSON.parse(r.stdout)).toMatchObject({ revoked: true, did: reg.did, reason: 'decommissioned' })
    expect(fx.node.signerKey(reg.did).revoked).toBe(true)
    const unknown = await script('unregister-agent.sh', ['leaving'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no active local agent/)
  })

  it('speak to the node directly under an http_proxy (the token proof names the address reached)', async () => {
    // an HTTP proxy in the environment that would catch every request (and the token with it)
    const caught: string[] = []
    const proxy = createServer((req, res) => {
      caught.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`)
      res.writeHead(502).end()
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const at = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const proxied = { ...env, http_proxy: at, HTTP_PROXY: at, ALL_PROXY: at, no_proxy: '', NO_PROXY: '' }
    try {
      const reg = await script('register-agent.sh', ['behind-a-proxy'], proxied)
      expect(reg.code, reg.stderr).toBe(0)
      const r = await script('unregister-agent.sh', ['behind-a-proxy'], proxied)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toMatch(/did not prove/)
      expect(JSON.parse(r.stdout)).toMatchObject({ revoked: true })
      expect(caught).toEqual([])
    } finally {
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  it('reports an unreachable node with exit 3', async () => {
    const r = await script('register-agent.sh', ['x'], { ...env, MESHSIG_SERVER: 'http://127.0.0.1:1' })
    expect(r.code).toBe(3)
  })
})

describe('register-agent.sh / unregister-agent.sh send the API token only to a server that proves it holds it', () => {
  const did = 'did:msig:' + 'A'.repeat(44)
  let fx: ApiFixture
  let tmp: string
  const squatters: Server[] = []

  /** A server on another loopback port that records the Authorization it is sent; `relay` asks the node for a proof. */
  async function squatter(relay: boolean): Promise<{ url: string; authorizations: string[]; relayed: string[] }> {
    const authorizations: string[] = []
    const relayed: string[] = []
    const server = createServer((req, res) => {
      authorizations.push(String(req.headers.authorization ?? ''))
      req.resume()
      const challenge = req.headers['x-meshsig-token-challenge']
      const proof =
        relay && typeof challenge === 'string'
          ? fetch(`${fx.url}/health`, { headers: { 'x-meshsig-token-challenge': challenge } }).then((r) =>
              r.headers.get('x-meshsig-token-proof'),
            )
          : Promise.resolve(null)
      void proof.then((p) => {
        if (p) relayed.push(p)
        res.writeHead(200, { 'content-type': 'application/json', ...(p ? { 'x-meshsig-token-proof': p } : {}) })
        res.end(JSON.stringify({ identity: { did, publicKey: 'x' }, record: { name: 'x' }, agents: [] }))
      })
    })
    squatters.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorizations, relayed }
  }

  beforeAll(async () => {
    fx = await startApi()
    tmp = mkdtempSync(join(tmpdir(), 'meshsig-scripts-token-'))
    writeFileSync(join(tmp, 'api-token'), fx.token + '\n', { mode: 0o600 })
  })

  afterAll(async () => {
    await Promise.all(squatters.map((s) => new Promise((resolve) => s.close(resolve))))
    await fx?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })

  it.each([
    ['register-agent.sh', ['alice'], false],
    ['unregister-agent.sh', [did], false],
    ['register-agent.sh', ['alice'], true],
    ['unregister-agent.sh', [did], true],
  ] as const)(
    '%s %j to a squatter (relaying the challenge to the node: %s) never gets the token',
    async (name, args, relay) => {
      const s = await squatter(relay)
      const r = await script(name, ['--server', s.url, ...args], { MESHSIG_HOME: tmp, MESHSIG_SERVER: '', TMPDIR: tmp })
      expect(s.authorizations.length).toBeGreaterThan(1) // the proof asked for, then the request itself
      expect(s.authorizations.join('\n')).not.toContain(fx.token)
      expect(s.relayed.length).toBe(relay ? 1 : 0) // the node's proof, for the node's port: not the squatter's
      expect(r.stderr).toMatch(/did not prove it holds the API token.*not sent/)
    },
  )
})
