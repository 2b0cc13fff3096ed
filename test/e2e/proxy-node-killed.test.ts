// Review (security, attacker's mindset): the node is killed (SIGKILL, a real process kill) while the
// signing proxy holds a request, with the real iptables rules of scripts/deploy-proxy.sh inside a private
// network namespace. What happens to the request in flight, to the agent's next requests, and to the
// agent's traffic once another local OS user binds the agent listener's (now free) port?
// Adapted by the fix (decision 0054): deploy-proxy.sh's answer guard lets only the node's user answer on a
// listener port, so the squatter never completes the connection: the agent's connect times out (its SYN is
// never answered; iptables cannot reset it on the squatter's behalf) instead of being refused, and a node
// started while the squatter holds the port fails naming it.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, buildCli, type BuiltCli } from '../cli/build-cli.js'
import { waitFor } from '../helpers/wait-for.js'
import { Netns, netnsSkipReason, stopChild as stop, type NsChild } from '../helpers/netns.js'

const GATEWAY_PORT = 3001
const API_PORT = 4788 // never 4888 (shared machine); this is a private namespace anyway
const PROXY_PORT = 4889
const ALICE_PORT = 4890
const ALICE_UID = 61001
const MALLORY_UID = 61003 // another local OS user, with no rule and no agent
const STRANGER_UID = 61004 // a local user no agent rule names: redirected to the default listener
const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')
const REGISTER = join(REPO_ROOT, 'scripts', 'register-agent.sh')

const reason = netnsSkipReason(['iptables', 'setpriv', 'jq'])
const ns = new Netns('rv')

// The gateway: holds /hold (never answers), answers everything else; prints one line per request it got.
const GATEWAY = `
import { createServer } from 'node:http'
createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    console.log('GOT ' + JSON.stringify({ path: req.url, signed: req.headers.signature !== undefined,
      keyid: /keyid="([^"]+)"/.exec(req.headers['signature-input'] ?? '')?.[1] ?? null }))
    if (req.url === '/hold') return
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ gateway: true }))
  })
}).listen(${GATEWAY_PORT}, '127.0.0.1', () => console.log('gateway listening'))
`

// An agent that knows nothing of meshsig: POSTs to the gateway's port with its gateway credential.
const AGENT = `
import { request } from 'node:http'
const body = JSON.stringify({ task: 'pay', amount: 100 })
const req = request({ host: '127.0.0.1', port: ${GATEWAY_PORT}, method: 'POST', path: process.env.AGENT_PATH || '/v1/run',
  headers: { 'content-type': 'application/json', authorization: 'Bearer gateway-secret-of-alice',
             'content-length': Buffer.byteLength(body) } }, (res) => {
  let text = ''
  res.on('data', (d) => (text += d))
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body: text })))
})
req.on('error', (e) => console.log(JSON.stringify({ error: e.code })))
req.setTimeout(4000, () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })))
req.end(body)
`

// Mallory (another uid) listens on the agent listener's port, once it is free, and answers as "the gateway".
const SQUATTER = `
import { createServer } from 'node:http'
const s = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    console.log('STOLEN ' + JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null,
      body: Buffer.concat(chunks).toString() }))
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ forgedByMallory: true }))
  })
})
const tryListen = () => s.listen(Number(process.env.SQUAT_PORT || ${ALICE_PORT}), '127.0.0.1', () => console.log('squatter listening uid=' + process.getuid()))
s.on('error', () => setTimeout(tryListen, 50))
tryListen()
`

let cli: BuiltCli | undefined
let home: string | undefined
let root = ''
let alice = ''
let gateway: NsChild | undefined
let node: ChildProcess | undefined

async function startNode(extra: readonly string[]): Promise<ChildProcess> {
  const args = ['start', '--port', String(API_PORT), '--p2p-port', '0', '--proxy', `${PROXY_PORT}:${GATEWAY_PORT}`]
  const n = ns.spawn([process.execPath, cli!.main, ...args, ...extra, '--json'], { MESHSIG_HOME: home! })
  await waitFor(() => /^\{"started":true.*\}$/m.exec(n.out())?.[0], { timeout: 30_000, message: `start: ${n.out()}` })
  return n.child
}

async function agentCall(env: Record<string, string> = {}, uid = ALICE_UID): Promise<Record<string, unknown>> {
  const a = ns.asUid(uid, AGENT, env)
  const line = await waitFor(() => /^\{.*\}$/m.exec(a.out())?.[0], { timeout: 20_000, message: `agent: ${a.out()}` })
  return JSON.parse(line) as Record<string, unknown>
}

const gatewayLines = (): string[] => (gateway?.out() ?? '').split('\n').filter((l) => l.startsWith('GOT '))

describe.skipIf(reason !== undefined)(
  `the node killed under the signing proxy${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    beforeAll(async () => {
      cli = buildCli()
      root = dirname(dirname(cli.main))
      writeFileSync(join(root, 'gateway.mjs'), GATEWAY)
      home = mkdtempSync(join(tmpdir(), 'meshsig-rv-kill-'))
      await ns.create()
      gateway = ns.spawn([process.execPath, join(root, 'gateway.mjs')])
      await waitFor(() => gateway!.out().includes('gateway listening'))
      const first = await startNode([])
      const { stdout } = await ns.exec('bash', [REGISTER, 'alice'], {
        MESHSIG_HOME: home,
        MESHSIG_SERVER: `http://127.0.0.1:${API_PORT}`,
      })
      alice = (JSON.parse(stdout) as { did: string }).did
      await stop(first)
      node = await startNode(['--proxy-agent', `${alice}=${ALICE_PORT}:${ALICE_UID}`])
      await ns.exec('bash', [
        SCRIPT,
        '--home',
        home,
        '--agent',
        'alice',
        '--uid',
        String(ALICE_UID),
        String(GATEWAY_PORT),
      ])
      await ns.exec('bash', [SCRIPT, '--home', home, '--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT)])
      expect(await agentCall()).toMatchObject({ status: 200 })
      expect(JSON.parse(gatewayLines().at(-1)!.slice(4))).toMatchObject({ signed: true, keyid: alice })
    }, 240_000)

    afterAll(async () => {
      await ns.destroy()
      if (home) rmSync(home, { recursive: true, force: true })
      cli?.cleanup()
    }, 60_000)

    it('SIGKILL mid-request: the caller is not told it succeeded, and later calls fail closed (nothing unsigned)', async () => {
      const held = ns.asUid(ALICE_UID, AGENT, { AGENT_PATH: '/hold' })
      await waitFor(() => gatewayLines().some((l) => l.includes('"/hold"')), { timeout: 20_000 })
      await stop(node!, 'SIGKILL')
      const line = await waitFor(() => /^\{.*\}$/m.exec(held.out())?.[0], { timeout: 20_000 })
      expect(JSON.parse(line)).toEqual({ error: 'ECONNRESET' }) // not acknowledged
      const before = gatewayLines().length
      expect(await agentCall()).toEqual({ error: 'ECONNREFUSED' }) // fail closed: refused, not passed unsigned
      expect(gatewayLines().length).toBe(before)
    }, 60_000)

    it("while the node is down, another local user who binds the agent listener's port must not get the agent's traffic", async () => {
      const squatter = ns.asUid(MALLORY_UID, SQUATTER)
      await waitFor(() => squatter.out().includes('squatter listening'), { timeout: 10_000 })
      const answer = await agentCall()
      const stolen = squatter
        .out()
        .split('\n')
        .filter((l) => l.startsWith('STOLEN '))
      // What a secure deployment would show: the agent's call fails, Mallory receives nothing.
      // (Observed before the fix: Mallory received alice's request with her gateway credential and answered it.)
      // The call fails by its own timeout: the squatter's SYN-ACK is rejected, so the connection never opens.
      expect({ answer, stolen }).toEqual({ answer: { error: 'ETIMEDOUT' }, stolen: [] })
      // the default listener's port too: another user's traffic to the gateway never reaches a squatter there
      const onDefault = ns.asUid(MALLORY_UID, SQUATTER, { SQUAT_PORT: String(PROXY_PORT) })
      await waitFor(() => onDefault.out().includes('squatter listening'), { timeout: 10_000 })
      expect(await agentCall({}, STRANGER_UID)).toEqual({ error: 'ETIMEDOUT' })
      expect(onDefault.out()).not.toContain('STOLEN')
      await stop(onDefault.child)
      // a node started while the squatter holds the port says which port and why, and does not start
      const args = ['start', '--port', String(API_PORT), '--p2p-port', '0', '--proxy', `${PROXY_PORT}:${GATEWAY_PORT}`]
      const refused = ns.spawn(
        [process.execPath, cli!.main, ...args, '--proxy-agent', `${alice}=${ALICE_PORT}:${ALICE_UID}`],
        {
          MESHSIG_HOME: home!,
        },
      )
      const code = await new Promise((resolve) => refused.child.once('exit', resolve))
      expect(code).not.toBe(0)
      expect(refused.out()).toContain(`127.0.0.1:${ALICE_PORT} (the listener of ${alice}): EADDRINUSE`)
    }, 60_000)

    it('after a restart, the request the gateway got before the kill is in the audit log (status null, no outcome)', async () => {
      for (const c of ns.running().filter((c) => c !== gateway!.child)) await stop(c)
      node = await startNode(['--proxy-agent', `${alice}=${ALICE_PORT}:${ALICE_UID}`])
      const script = `const r = await fetch('http://127.0.0.1:${API_PORT}/audit/export'); console.log(JSON.stringify((await r.json()).entries.filter((e) => e.kind === 'proxy.request').map((e) => e.data)))`
      const { stdout } = await ns.exec(process.execPath, ['--input-type=module', '-e', script])
      const entries = JSON.parse(stdout) as { path: string; status: number | null; requestEntry?: number }[]
      const hold = entries.filter((e) => e.path === '/hold')
      expect(hold).toEqual([expect.objectContaining({ path: '/hold', status: null })])
    }, 90_000)
  },
)
