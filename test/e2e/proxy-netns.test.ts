// The signing proxy with real iptables, inside a private network namespace: a gateway on
// 127.0.0.1:3001, `meshsig start --proxy 4889:3001`, and scripts/deploy-proxy.sh. An agent
// calling the gateway's port reaches it signed once the redirect is installed, and unsigned
// again after --remove; re-deploying never duplicates the rule.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, buildCli, type BuiltCli } from '../cli/build-cli.js'
import { waitFor } from '../helpers/wait-for.js'

const run = promisify(execFile)
const GATEWAY_PORT = 3001
const PROXY_PORT = 4889
const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')

/** Why the test cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces and iptables are Linux-only'
  if (process.getuid?.() !== 0) return 'needs root (ip netns, iptables)'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' })
    execFileSync('iptables', ['--version'], { stdio: 'pipe' })
  } catch {
    return '`ip netns` or iptables is unavailable'
  }
  return undefined
}

const reason = skipReason()
const NS = `meshsig-e2e-${process.pid}-${randomBytes(3).toString('hex')}`

// The gateway: answers every request with what it saw, checked with the SDK verifier.
const GATEWAY = `
import { createServer } from 'node:http'
import { NonceCache, resolveInceptionKey, verifyRequestSignature } from './node/core/index.js'
const nonces = new NonceCache()
createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    const request = { method: req.method, authority: req.headers.host ?? '', path: req.url, headers: req.headers,
      body: new Uint8Array(Buffer.concat(chunks)) }
    const v = await verifyRequestSignature(request, { now: Date.now(), resolveKey: resolveInceptionKey, seenNonce: nonces.seen })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ signed: v.ok, keyid: v.ok ? v.signature.keyid : null, code: v.ok ? null : v.error.code,
      from: req.socket.remoteAddress, hasSignature: req.headers.signature !== undefined }))
  })
}).listen(${GATEWAY_PORT}, '127.0.0.1', () => console.log('gateway listening'))
`

// The agent: calls the gateway's port as it always did, knowing nothing of meshsig.
const AGENT = `
const res = await fetch('http://127.0.0.1:${GATEWAY_PORT}/v1/run?task=e2e', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'e2e' }) })
console.log(JSON.stringify({ status: res.status, body: await res.json() }))
`

interface GatewayView {
  readonly signed: boolean
  readonly keyid: string | null
  readonly code: string | null
  readonly from: string
  readonly hasSignature: boolean
}

let cli: BuiltCli | undefined
let home: string | undefined
let nsCreated = false
const children: ChildProcess[] = []

function inNs(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run('ip', ['netns', 'exec', NS, command, ...args], { cwd: REPO_ROOT, timeout: 30_000 })
}

function spawnInNs(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string } {
  let out = ''
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  children.push(child)
  return { child, out: () => out }
}

async function agentCall(): Promise<{ status: number; body: GatewayView }> {
  const { stdout } = await inNs(process.execPath, [join(dirname(dirname(cli!.main)), 'agent.mjs')])
  return JSON.parse(stdout.trim()) as { status: number; body: GatewayView }
}

async function taggedRules(): Promise<string[]> {
  const { stdout } = await inNs('iptables', ['-t', 'nat', '-S', 'OUTPUT'])
  return stdout.split('\n').filter((l) => l.includes('meshsig-proxy:'))
}

let nodeDid = ''

describe.skipIf(reason !== undefined)(
  `signing proxy behind iptables in a netns${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    beforeAll(async () => {
      cli = buildCli()
      const root = dirname(dirname(cli.main))
      writeFileSync(join(root, 'gateway.mjs'), GATEWAY)
      writeFileSync(join(root, 'agent.mjs'), AGENT)
      home = mkdtempSync(join(tmpdir(), 'meshsig-netns-'))
      execFileSync('ip', ['netns', 'add', NS])
      nsCreated = true
      await inNs('ip', ['link', 'set', 'lo', 'up'])
      const gateway = spawnInNs([join(root, 'gateway.mjs')])
      await waitFor(() => gateway.out().includes('gateway listening'), { message: `gateway: ${gateway.out()}` })
      const node = spawnInNs(
        [cli.main, 'start', '--port', '4888', '--p2p-port', '0', '--proxy', `${PROXY_PORT}:${GATEWAY_PORT}`, '--json'],
        { MESHSIG_HOME: home },
      )
      const started = await waitFor(() => /^\{"started":true.*\}$/m.exec(node.out())?.[0], {
        timeout: 30_000,
        message: 'meshsig start --proxy',
      })
      const info = JSON.parse(started) as { did: string; proxy: string }
      expect(info.proxy).toBe(`http://127.0.0.1:${PROXY_PORT}`)
      nodeDid = info.did
    }, 180_000)

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
      )
      if (nsCreated) execFileSync('ip', ['netns', 'del', NS])
      if (home) rmSync(home, { recursive: true, force: true })
      cli?.cleanup()
    }, 60_000)

    it('before deploy: the agent reaches the gateway directly, unsigned', async () => {
      const { status, body } = await agentCall()
      expect(status).toBe(200)
      expect(body).toMatchObject({ signed: false, hasSignature: false, code: 'MALFORMED', from: '127.0.0.1' })
    })

    it('after deploy-proxy.sh: the same call reaches the gateway signed by the node DID, via the proxy', async () => {
      const { stdout } = await inNs('bash', [SCRIPT, '--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT)])
      expect(stdout).toMatch(/installed/)
      const { status, body } = await agentCall()
      expect(status).toBe(200)
      expect(body).toEqual({ signed: true, keyid: nodeDid, code: null, from: '127.0.0.2', hasSignature: true })
      const again = await agentCall()
      expect(again.body.signed).toBe(true) // a fresh nonce each time: no REPLAY
    })

    it('re-running deploy does not duplicate the rule', async () => {
      expect(await taggedRules()).toHaveLength(1)
      const { stdout } = await inNs('bash', [SCRIPT, '--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT)])
      expect(stdout).toMatch(/already installed/)
      await inNs('bash', [SCRIPT, String(GATEWAY_PORT)])
      const rules = await taggedRules()
      expect(rules).toHaveLength(1)
      expect(rules[0]).toContain(`--dport ${GATEWAY_PORT}`)
      expect(rules[0]).toContain('! -s 127.0.0.2/32')
    })

    it('--remove restores direct, unsigned traffic and removes exactly its rules', async () => {
      await inNs('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'RETURN'])
      const { stdout } = await inNs('bash', [SCRIPT, '--remove', String(GATEWAY_PORT)])
      expect(stdout).toMatch(/removed 1/)
      expect(await taggedRules()).toHaveLength(0)
      const { stdout: rest } = await inNs('iptables', ['-t', 'nat', '-S', 'OUTPUT'])
      expect(rest).toContain('--dport 9 -j RETURN')
      const { body } = await agentCall()
      expect(body).toMatchObject({ signed: false, hasSignature: false, from: '127.0.0.1' })
    })
  },
)
