// The answer guard of decision 0054 against SYN cookies, with the real rules of scripts/deploy-proxy.sh
// inside a private network namespace. A SYN-ACK the kernel sends as a SYN cookie carries no socket, so the
// guard's owner match (`--socket-exists ! --uid-owner <node>`) never sees it: found by an attack review, a
// squatter (another local uid) on a freed listener port then received the agent's request, credential and
// body, before the guard rejected its own ACKs. The namespace's net.ipv4.tcp_syncookies=2 (a netns-local
// sysctl) makes the kernel answer every SYN with a cookie, so the test does not depend on winning a race on
// the SYN queue. The cookie guard (drop every socketless SYN sent from a listener port) closes it: the
// agent's connect times out. Its cost, accepted in the decision: the node's own cookie answers are dropped
// too, while its normal SYN-ACKs (which carry their request socket, the listener's) still pass.
// No meshsig node runs: the node is down, which is when a squatter can take the port.
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'
import { waitFor } from '../helpers/wait-for.js'
import { Netns, netnsSkipReason, stopChild as stop } from '../helpers/netns.js'

const GATEWAY_PORT = 3001
const PROXY_PORT = 4889
const ALICE_PORT = 4890
/** Fixed uids with no account: setpriv needs none. */
const NODE_UID = 61000 // the user the (stopped) node runs as: owner of proxy.json
const ALICE_UID = 61001
const MALLORY_UID = 61003 // another local user, with no rule and no agent
const STRANGER_UID = 61004 // a local user no agent rule names: redirected to the default listener
const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')
const ALICE_DID = 'did:msig:' + 'A'.repeat(44)

const reason = netnsSkipReason(['iptables', 'setpriv', 'jq', 'sysctl'])
const ns = new Netns('ck')

// An agent that knows nothing of meshsig: opens a TCP connection to the gateway's port and sends its request,
// credential included, at once. Prints whether the connection opened, what came back, and how it ended.
const AGENT = `
import { connect } from 'node:net'
const s = connect({ host: '127.0.0.1', port: ${GATEWAY_PORT} })
let connected = false
let reply = ''
const done = (error) => { console.log(JSON.stringify({ connected, reply, error })); process.exit(0) }
s.on('connect', () => {
  connected = true
  s.write('POST /v1/run HTTP/1.1\\r\\nHost: 127.0.0.1:${GATEWAY_PORT}\\r\\nAuthorization: Bearer gateway-secret-of-alice\\r\\n' +
    'Content-Length: 11\\r\\nConnection: close\\r\\n\\r\\n{"pay":100}')
})
s.on('data', (d) => (reply += d))
s.on('end', () => done(null))
s.on('error', (e) => done(e.code))
s.setTimeout(3000, () => done('ETIMEDOUT'))
`

// A plain listener on LISTEN_PORT that prints every byte it receives (Mallory's), or, with ANSWER set,
// answers every connection (the node's user: a stand-in for the node's proxy listener).
const LISTENER = `
import { createServer } from 'node:net'
const s = createServer((c) => {
  let got = ''
  c.on('error', () => {})
  c.on('data', (d) => { got += d; console.log('RECEIVED ' + JSON.stringify(got)) })
  if (process.env.ANSWER) c.end('HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\nConnection: close\\r\\n\\r\\nnode')
})
s.listen(Number(process.env.LISTEN_PORT), '127.0.0.1', () => console.log('listening uid=' + process.getuid()))
`

let home: string | undefined

async function listen(uid: number, port: number, answer = false) {
  const l = ns.asUid(uid, LISTENER, { LISTEN_PORT: String(port), ...(answer ? { ANSWER: '1' } : {}) })
  await waitFor(() => l.out().includes(`listening uid=${uid}`), { timeout: 10_000, message: `listener: ${l.out()}` })
  return l
}

interface AgentResult {
  readonly connected: boolean
  readonly reply: string
  readonly error: string | null
}

async function agentCall(uid: number): Promise<AgentResult> {
  const a = ns.asUid(uid, AGENT)
  const line = await waitFor(() => /^\{.*\}$/m.exec(a.out())?.[0], { timeout: 20_000, message: `agent: ${a.out()}` })
  return JSON.parse(line) as AgentResult
}

const received = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('RECEIVED '))

async function syncookies(value: 1 | 2): Promise<void> {
  await ns.exec('sysctl', ['-qw', `net.ipv4.tcp_syncookies=${value}`])
}

/** TcpExt SyncookiesSent of the namespace: proof that the kernel answered with cookies. */
async function cookiesSent(): Promise<number> {
  const { stdout } = await ns.exec('cat', ['/proc/net/netstat'])
  const [names, values] = stdout.split('\n').filter((l) => l.startsWith('TcpExt:'))
  const i = names!.split(/\s+/).indexOf('SyncookiesSent')
  return Number(values!.split(/\s+/)[i])
}

async function deploy(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return ns.exec('bash', [SCRIPT, '--home', home!, ...args])
}

async function rules(): Promise<string[]> {
  const { stdout } = await ns.exec('iptables', ['-t', 'filter', '-S', 'OUTPUT'])
  return stdout.split('\n').filter((l) => l.includes('meshsig-proxy:'))
}

describe.skipIf(reason !== undefined)(
  `the answer guard against SYN cookies${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), 'meshsig-ck-'))
      const state = {
        v: 2,
        listenPort: PROXY_PORT,
        gateway: { host: '127.0.0.1', port: GATEWAY_PORT },
        agents: [{ did: ALICE_DID, name: 'alice', port: ALICE_PORT, uid: ALICE_UID }],
      }
      writeFileSync(join(home, 'proxy.json'), JSON.stringify(state))
      chownSync(join(home, 'proxy.json'), NODE_UID, NODE_UID) // the node writes it: its owner is the node's user
      await ns.create()
      await syncookies(2) // every SYN is answered with a cookie: no race to win
    }, 60_000)

    afterAll(async () => {
      await ns.destroy()
      if (home) rmSync(home, { recursive: true, force: true })
    }, 60_000)

    it('deploy installs a cookie guard per listener port, and says that syncookies=2 leaves the proxy unreachable', async () => {
      const agent = await deploy('--agent', 'alice', '--uid', String(ALICE_UID), String(GATEWAY_PORT))
      await deploy('--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT))
      expect(agent.stderr).toMatch(/tcp_syncookies is 2 .*no caller reaches the proxy listeners/)
      const filter = await rules()
      for (const port of [ALICE_PORT, PROXY_PORT]) {
        expect(filter.filter((r) => r.includes(`meshsig-proxy:${GATEWAY_PORT}:cookie:${port}"`))).toEqual([
          expect.stringMatching(
            new RegExp(`--sport ${port} --tcp-flags SYN SYN -m owner ! --socket-exists .* -j DROP$`),
          ) as unknown,
        ])
      }
      // idempotent: a second run adds nothing
      await deploy('--proxy-port', String(PROXY_PORT), String(GATEWAY_PORT))
      expect(await rules()).toEqual(filter)
    })

    it("a squatter on an agent's listener port gets nothing when the kernel answers with SYN cookies", async () => {
      const mallory = await listen(MALLORY_UID, ALICE_PORT)
      try {
        const before = await cookiesSent()
        const answer = await agentCall(ALICE_UID)
        // (Observed before the fix: {connected: true, ...}, and Mallory received alice's request with her
        // gateway credential: the cookie SYN-ACK opened the connection, carrying no socket for the owner match.)
        expect(await cookiesSent()).toBeGreaterThan(before) // the kernel did answer with cookies
        expect({ answer, received: received(mallory.out()) }).toEqual({
          answer: { connected: false, reply: '', error: 'ETIMEDOUT' },
          received: [],
        })
      } finally {
        await stop(mallory.child)
      }
    }, 30_000)

    it("a squatter on the default listener's port gets nothing either", async () => {
      const mallory = await listen(MALLORY_UID, PROXY_PORT)
      try {
        const answer = await agentCall(STRANGER_UID)
        expect({ answer, received: received(mallory.out()) }).toEqual({
          answer: { connected: false, reply: '', error: 'ETIMEDOUT' },
          received: [],
        })
      } finally {
        await stop(mallory.child)
      }
    }, 30_000)

    it("the node's user: normal SYN-ACKs pass, its own SYN cookies are dropped (the accepted local DoS)", async () => {
      const node = await listen(NODE_UID, ALICE_PORT, true)
      try {
        // every SYN answered with a cookie: the node's answers are dropped too, the caller fails closed
        expect(await agentCall(ALICE_UID)).toEqual({ connected: false, reply: '', error: 'ETIMEDOUT' })
        expect(received(node.out())).toEqual([])
        // the default (cookies only when a listener's SYN queue overflows): the SYN-ACK carries its request
        // socket, which the owner match counts as the node's listener, and the connection opens
        await syncookies(1)
        const answer = await agentCall(ALICE_UID)
        expect(answer).toMatchObject({ connected: true, error: null })
        expect(answer.reply).toMatch(/\r\n\r\nnode$/)
        await waitFor(() => received(node.out()).some((l) => l.includes('gateway-secret-of-alice')))
      } finally {
        await stop(node.child)
        await syncookies(2)
      }
    }, 30_000)

    it('--remove removes the cookie guards with the rest', async () => {
      const { stdout } = await deploy('--remove', String(GATEWAY_PORT))
      expect(stdout).toMatch(/removed 7/) // 2 NAT rules, alice's guard, 2 answer guards, 2 cookie guards
      expect(await rules()).toEqual([])
    })
  },
)
