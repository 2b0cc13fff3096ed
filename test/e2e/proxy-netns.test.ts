// The signing proxy with real iptables, inside a private network namespace: a gateway on
// 127.0.0.1:3001 that verifies every request for its own authority, `meshsig start --proxy 4889:3001
// --proxy-agent <alice>=4890:61001 --proxy-agent <bob>=4891:61002`, and scripts/deploy-proxy.sh. Agents run as
// their own uids (setpriv): two uids calling the same gateway address:port are signed as their own
// agents, the caller's Host chooses nothing in what is signed (a foreign one is refused, decision 0082),
// a uid with no rule is signed as nobody, and a direct connection to an agent listener is reset (and,
// without its guard, refused by the proxy).
// A new uid for an agent is the node's to say (a restart): the old uid's rule is refused meanwhile, and
// re-deploying adds the new rule before removing the old one; --remove restores direct, unsigned traffic.
import { execFileSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, buildCli, type BuiltCli } from '../cli/build-cli.js'
import { waitFor } from '../helpers/wait-for.js'
import { Netns, netnsSkipReason, stopChild as stop, type NsChild } from '../helpers/netns.js'

const GATEWAY_PORT = 3001
const PROXY_PORT = 4889
const ALICE_PORT = 4890
const BOB_PORT = 4891
/** Fixed uids with no account: setpriv needs none, and nothing is left in /etc/passwd. */
const ALICE_UID = 61001
const BOB_UID = 61002
const STRANGER_UID = 61003
const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')
const REGISTER = join(REPO_ROOT, 'scripts', 'register-agent.sh')

const reason = netnsSkipReason(['iptables', 'setpriv', 'jq'])
const ns = new Netns('e2e')

// The gateway: verifies every request for its own authority (never the Host it was sent) with the SDK verifier.
const GATEWAY = `
import { createServer } from 'node:http'
import { NonceCache, resolveInceptionKey, verifyRequestSignature } from './node/core/index.js'
const nonces = new NonceCache()
let count = 0
createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    count += 1
    const request = { method: req.method, authority: '127.0.0.1:${GATEWAY_PORT}', path: req.url, headers: req.headers,
      body: new Uint8Array(Buffer.concat(chunks)) }
    const v = await verifyRequestSignature(request, { now: Date.now(), resolveKey: resolveInceptionKey, seenNonce: nonces.seen })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ signed: v.ok, keyid: v.ok ? v.signature.keyid : null, code: v.ok ? null : v.error.code,
      from: req.socket.remoteAddress, host: req.headers.host, hasSignature: req.headers.signature !== undefined, count }))
  })
}).listen(${GATEWAY_PORT}, '127.0.0.1', () => console.log('gateway listening'))
`

// An agent: calls the gateway's port as it always did, knowing nothing of meshsig (AGENT_HOST forges Host).
const AGENT = `
import { request } from 'node:http'
const body = JSON.stringify({ task: 'e2e' })
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
if (process.env.AGENT_HOST) headers.host = process.env.AGENT_HOST
const port = Number(process.env.AGENT_PORT || ${GATEWAY_PORT})
const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/run?task=e2e', headers }, (res) => {
  let text = ''
  res.on('data', (d) => (text += d))
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, refused: res.headers['x-meshsig-proxy'] ?? null,
    body: JSON.parse(text) })))
})
req.on('error', (e) => console.log(JSON.stringify({ error: e.code })))
req.end(body)
`

interface GatewayView {
  readonly signed: boolean
  readonly keyid: string | null
  readonly code: string | null
  readonly from: string
  readonly host: string
  readonly hasSignature: boolean
  readonly count: number
}

interface AgentResult {
  readonly status?: number
  readonly refused?: string | null
  readonly body?: GatewayView & { error?: string }
  readonly error?: string
}

let cli: BuiltCli | undefined
let home: string | undefined
let shim: string | undefined
const agents = { alice: '', bob: '' }

/** Start the node (and its proxy) in the namespace; resolves with its `--json` start line. */
async function startNode(extra: readonly string[]): Promise<NsChild & { info: Record<string, unknown> }> {
  const args = ['start', '--port', '4888', '--p2p-port', '0', '--proxy', `${PROXY_PORT}:${GATEWAY_PORT}`]
  const node = ns.spawn([process.execPath, cli!.main, ...args, ...extra, '--json'], { MESHSIG_HOME: home! })
  const started = await waitFor(() => /^\{"started":true.*\}$/m.exec(node.out())?.[0], {
    timeout: 30_000,
    message: `meshsig start --proxy: ${node.out()}`,
  })
  return { child: node.child, info: JSON.parse(started) as Record<string, unknown>, out: node.out }
}

/** One call of the agent program, as `uid` (undefined: as root), to the gateway port unless `env` says otherwise. */
async function agentCall(uid: number | undefined, env: Record<string, string> = {}): Promise<AgentResult> {
  const node = [process.execPath, '--input-type=module', '-e', AGENT]
  const as = uid === undefined ? node : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...node]
  const { stdout } = await ns.exec(as[0]!, as.slice(1), env)
  return JSON.parse(stdout.trim()) as AgentResult
}

function deploy(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return ns.exec('bash', [SCRIPT, '--home', home!, ...args], { PATH: `${shim}:${process.env.PATH ?? ''}` })
}

async function rules(table: 'nat' | 'filter'): Promise<string[]> {
  const { stdout } = await ns.exec('iptables', ['-t', table, '-S', 'OUTPUT'])
  return stdout.split('\n').filter((l) => l.includes('meshsig-proxy:'))
}

/** The iptables calls deploy-proxy.sh made since the last read (through the logging shim). */
function iptablesCalls(): string[] {
  const log = join(shim!, 'calls.log')
  const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  writeFileSync(log, '')
  return calls
}

let nodeDid = ''
let running: ChildProcess | undefined
const agentFlags = (aliceUid: number): string[] => [
  '--proxy-agent',
  `${agents.alice}=${ALICE_PORT}:${aliceUid}`,
  '--proxy-agent',
  `${agents.bob}=${BOB_PORT}:${BOB_UID}`,
]

describe.skipIf(reason !== undefined)(
  `signing proxy behind iptables in a netns${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    beforeAll(async () => {
      cli = buildCli()
      const root = dirname(dirname(cli.main))
      writeFileSync(join(root, 'gateway.mjs'), GATEWAY)
      home = mkdtempSync(join(tmpdir(), 'meshsig-netns-'))
      shim = mkdtempSync(join(tmpdir(), 'meshsig-shim-'))
      const real = execFileSync('bash', ['-c', 'command -v iptables']).toString().trim()
      writeFileSync(join(shim, 'calls.log'), '')
      writeFileSync(join(shim, 'iptables'), `#!/bin/sh\necho "$*" >>'${shim}/calls.log'\nexec '${real}' "$@"\n`)
      chmodSync(join(shim, 'iptables'), 0o755)
      await ns.create()
      const gateway = ns.spawn([process.execPath, join(root, 'gateway.mjs')])
      await waitFor(() => gateway.out().includes('gateway listening'), { message: `gateway: ${gateway.out()}` })
      // The agents' keys are made and kept by the node (register-agent.sh); then the node restarts with their listeners.
      const first = await startNode([])
      const env = { MESHSIG_HOME: home, MESHSIG_SERVER: 'http://127.0.0.1:4888' }
      for (const name of ['alice', 'bob'] as const) {
        const { stdout } = await ns.exec('bash', [REGISTER, name], env)
        agents[name] = (JSON.parse(stdout) as { did: string }).did
      }
      await stop(first.child)
      const { child, info } = await startNode(agentFlags(ALICE_UID))
      running = child
      expect(info.proxy).toBe(`http://127.0.0.1:${PROXY_PORT}`)
      nodeDid = String(info.did)
    }, 180_000)

    afterAll(async () => {
      await ns.destroy()
      for (const dir of [home, shim]) if (dir) rmSync(dir, { recursive: true, force: true })
      cli?.cleanup()
    }, 60_000)

    it('the node says in proxy.json which port signs as which agent', () => {
      const state = JSON.parse(readFileSync(join(home!, 'proxy.json'), 'utf8')) as Record<string, unknown>
      expect(state).toMatchObject({ v: 2, listenPort: PROXY_PORT, gateway: { port: GATEWAY_PORT }, signAsNode: false })
      expect(state.agents).toEqual([
        { did: agents.alice, name: 'alice', port: ALICE_PORT, uid: ALICE_UID },
        { did: agents.bob, name: 'bob', port: BOB_PORT, uid: BOB_UID },
      ])
    })

    it('before deploy: the agent reaches the gateway directly, unsigned', async () => {
      const { status, body } = await agentCall(ALICE_UID)
      expect(status).toBe(200)
      expect(body).toMatchObject({ signed: false, hasSignature: false, code: 'MALFORMED', from: '127.0.0.1' })
    })

    it('two uids calling the same gateway address:port are signed as their own agents', async () => {
      expect((await deploy('--agent', 'alice', '--uid', String(ALICE_UID), String(GATEWAY_PORT))).stdout).toMatch(
        /installed: uid 61001/,
      )
      await deploy('--agent', agents.bob, '--uid', String(BOB_UID), String(GATEWAY_PORT)) // by DID
      await deploy('--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT)) // everyone else: the default listener
      const alice = await agentCall(ALICE_UID)
      expect(alice.status).toBe(200)
      expect(alice.body).toMatchObject({ signed: true, keyid: agents.alice, from: '127.0.0.2' })
      const bob = await agentCall(BOB_UID)
      expect(bob.body).toMatchObject({ signed: true, keyid: agents.bob, from: '127.0.0.2' })
      expect([agents.alice, agents.bob]).not.toContain(nodeDid)
      expect((await agentCall(ALICE_UID)).body?.signed).toBe(true) // a fresh nonce each time: no REPLAY
    })

    it("the agent's Host chooses nothing in what is signed: the gateway verifies it for its own authority", async () => {
      const other = await agentCall(ALICE_UID, { AGENT_HOST: `localhost:${GATEWAY_PORT}` })
      expect(other.status).toBe(200)
      expect(other.body).toMatchObject({ signed: true, keyid: agents.alice, host: `127.0.0.1:${GATEWAY_PORT}` })
    })

    it('a Host naming neither the proxy nor the gateway (DNS rebinding) is refused, never forwarded', async () => {
      const before = (await agentCall(ALICE_UID)).body!.count
      const forged = await agentCall(ALICE_UID, { AGENT_HOST: 'bank.example:443' })
      expect(forged).toMatchObject({ status: 403, refused: 'refused', body: { code: 'FORBIDDEN' } })
      expect((await agentCall(ALICE_UID)).body!.count).toBe(before + 1)
    })

    it('a uid with no rule is signed as no agent (and not as the node): refused, never forwarded', async () => {
      const before = (await agentCall(ALICE_UID)).body!.count
      for (const uid of [STRANGER_UID, undefined]) {
        const refused = await agentCall(uid)
        expect(refused).toMatchObject({ status: 403, refused: 'refused', body: { code: 'FORBIDDEN' } })
        expect(refused.body?.error).toMatch(/no agent is attributed to this caller/)
      }
      expect((await agentCall(ALICE_UID)).body!.count).toBe(before + 1)
    })

    it("a direct connection to an agent's listener is reset by its guard", async () => {
      const reset = { error: expect.stringMatching(/^ECONNRE(SET|FUSED)$/) as unknown }
      expect(await agentCall(STRANGER_UID, { AGENT_PORT: String(ALICE_PORT) })).toEqual(reset)
      expect(await agentCall(ALICE_UID, { AGENT_PORT: String(BOB_PORT) })).toEqual(reset)
    })

    it("re-running changes nothing; a new uid for alice is the node's to say, and is added before the old rule goes", async () => {
      iptablesCalls()
      const again = await deploy('--agent', 'alice', '--uid', String(ALICE_UID), String(GATEWAY_PORT))
      expect(again.stdout).toMatch(/already installed/)
      expect(iptablesCalls().filter((c) => / -[AID] /.test(c))).toEqual([])
      expect(await rules('nat')).toHaveLength(3)
      // a guard per agent port, an answer guard and a cookie guard per listener port
      expect(await rules('filter')).toHaveLength(8)
      // the script cannot give alice another uid than the node's (proxy.json): one source of truth
      const other = await deploy('--agent', 'alice', '--uid', String(STRANGER_UID), String(GATEWAY_PORT)).catch(
        (e: { code: number; stderr: string }) => e,
      )
      expect(other).toMatchObject({ code: 2, stderr: expect.stringMatching(/to uid 61001 only \(proxy\.json\)/) })

      await stop(running!)
      const restarted = await startNode(agentFlags(STRANGER_UID))
      running = restarted.child
      expect(restarted.out()).toMatch(
        new RegExp(`127\\.0\\.0\\.1:${ALICE_PORT} signed as alice .*\\(uid ${ALICE_UID}\\)`),
      )
      // the old rule still sends alice's old uid to her listener: refused there, never signed
      const stale = await agentCall(ALICE_UID)
      expect(stale).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
      expect(stale.body?.error).toMatch(new RegExp(`made by uid ${ALICE_UID}, but .* serves uid ${STRANGER_UID} only`))
      iptablesCalls()
      await deploy('--agent', 'alice', String(GATEWAY_PORT))
      const changes = iptablesCalls().filter((c) => c.includes('-t nat') && / -[AID] /.test(c))
      expect(changes).toHaveLength(2)
      expect(changes[0]).toMatch(new RegExp(`-I OUTPUT \\d+ .*--uid-owner ${STRANGER_UID} `))
      expect(changes[1]).toMatch(/-D OUTPUT \d+$/)
      const nat = await rules('nat')
      expect(nat).toHaveLength(3)
      expect(nat[0]).toContain(`meshsig-proxy:${GATEWAY_PORT}:agent:${ALICE_PORT}:uid:${STRANGER_UID}`)
      expect(nat[2]).toMatch(new RegExp(`--comment "?meshsig-proxy:${GATEWAY_PORT}"? `)) // the default rule stays last
      expect((await agentCall(STRANGER_UID)).body).toMatchObject({ signed: true, keyid: agents.alice })
      expect(await agentCall(ALICE_UID)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    })

    it('--remove --agent removes only that agent (and its guard); its uid is refused from then on', async () => {
      const { stdout } = await deploy('--remove', String(GATEWAY_PORT), '--agent', 'bob')
      expect(stdout).toMatch(/removed 1/)
      expect(await rules('nat')).toHaveLength(2)
      const filter = await rules('filter')
      expect(filter).toHaveLength(5) // alice's guard, and the answer and cookie guards of alice's and the default port
      expect(filter.filter((r) => r.includes(`:guard:${ALICE_PORT}`))).toHaveLength(1)
      expect(filter.filter((r) => r.includes(`:answer:${ALICE_PORT}:uid:0`))).toHaveLength(1)
      expect(filter.filter((r) => r.includes(`:answer:${PROXY_PORT}:uid:0`))).toHaveLength(1)
      expect(filter.filter((r) => r.includes(`:cookie:${ALICE_PORT}"`))).toHaveLength(1)
      expect(filter.filter((r) => r.includes(`:cookie:${PROXY_PORT}"`))).toHaveLength(1)
      expect(await agentCall(BOB_UID)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
      // without its guard, bob's listener still refuses a direct caller: the kernel's socket table says so
      const direct = await agentCall(STRANGER_UID, { AGENT_PORT: String(BOB_PORT) })
      expect(direct).toMatchObject({ status: 403, refused: 'refused', body: { code: 'FORBIDDEN' } })
      expect(direct.body?.error).toMatch(/did not come through the per-uid redirect/)
    })

    it('--remove restores direct, unsigned traffic and removes exactly its rules', async () => {
      await ns.exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'RETURN'])
      const { stdout } = await deploy('--remove', String(GATEWAY_PORT))
      expect(stdout).toMatch(/removed 7/) // 2 NAT rules, alice's guard, 2 answer guards, 2 cookie guards
      expect(await rules('nat')).toHaveLength(0)
      expect(await rules('filter')).toHaveLength(0)
      const { stdout: rest } = await ns.exec('iptables', ['-t', 'nat', '-S', 'OUTPUT'])
      expect(rest).toContain('--dport 9 -j RETURN')
      const { body } = await agentCall(STRANGER_UID)
      expect(body).toMatchObject({ signed: false, hasSignature: false, from: '127.0.0.1' })
    })
  },
)
