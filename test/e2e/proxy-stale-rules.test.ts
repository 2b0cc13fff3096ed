// The iptables rules outlive the node and name only a port and a uid. Attack review 93 (F1): after a
// restart that gives alice's old listener port to bob, with no deploy-proxy.sh run in between, every
// request of alice's uid was signed as bob. Each agent listener now serves only the uid the node was
// told (`--proxy-agent <did>=<port>:<uid>`, in proxy.json, which deploy-proxy.sh reads): the stale rule's
// connections are refused (403, audited once), the restart warns, and re-deploying bob fixes the rules.
// Real iptables in a private network namespace; the node's API on 4788 inside it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, buildCli, type BuiltCli } from '../cli/build-cli.js'
import { waitFor } from '../helpers/wait-for.js'
import { Netns, netnsSkipReason, stopChild as stop, type NsChild } from '../helpers/netns.js'

const API_PORT = 4788
const GATEWAY_PORT = 3001
const PROXY_PORT = 4789
const PORT_A = 4790
const PORT_B = 4791
/** Fixed uids with no account: setpriv needs none. */
const ALICE_UID = 61931
const BOB_UID = 61932
const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')
const REGISTER = join(REPO_ROOT, 'scripts', 'register-agent.sh')
const reason = netnsSkipReason(['iptables', 'setpriv', 'jq'])
const ns = new Netns('stale')

const GATEWAY = `
import { createServer } from 'node:http'
import { resolveInceptionKey, verifyRequestSignature } from './node/core/index.js'
let count = 0
createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    count += 1
    const v = await verifyRequestSignature({ method: req.method, authority: '127.0.0.1:${GATEWAY_PORT}', path: req.url,
      headers: req.headers, body: new Uint8Array(Buffer.concat(chunks)) }, { now: Date.now(), resolveKey: resolveInceptionKey })
    res.end(JSON.stringify({ signed: v.ok, keyid: v.ok ? v.signature.keyid : null, count }))
  })
}).listen(${GATEWAY_PORT}, '127.0.0.1', () => console.log('gateway listening'))
`
const AGENT = `
const res = await fetch('http://127.0.0.1:${GATEWAY_PORT}/v1/pay', { method: 'POST', body: '{"amount":1}' })
console.log(JSON.stringify({ status: res.status, body: JSON.parse(await res.text()) }))
`
const AUDIT = `
const r = await fetch('http://127.0.0.1:${API_PORT}/audit/export')
const refused = (await r.json()).entries.filter((e) => e.kind === 'api.refused' && e.data.action === 'proxy.sign')
console.log(JSON.stringify(refused.map((e) => ({ subject: e.subject, client: e.data.client }))))
`

interface Answer {
  readonly status: number
  readonly body: { signed?: boolean; keyid?: string | null; count?: number; code?: string; error?: string }
}

let cli: BuiltCli | undefined
let home: string | undefined
const agents = { alice: '', bob: '' }

async function startNode(extra: readonly string[]): Promise<NsChild> {
  const args = ['start', '--port', String(API_PORT), '--p2p-port', '0', '--proxy', `${PROXY_PORT}:${GATEWAY_PORT}`]
  const node = ns.spawn([process.execPath, cli!.main, ...args, ...extra, '--json'], { MESHSIG_HOME: home! })
  await waitFor(() => /^\{"started":true.*\}$/m.exec(node.out())?.[0], { timeout: 30_000, message: node.out() })
  return node
}

async function callAs(uid: number): Promise<Answer> {
  const cmd = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath]
  const { stdout } = await ns.exec(cmd[0]!, [...cmd.slice(1), '--input-type=module', '-e', AGENT])
  return JSON.parse(stdout.trim()) as Answer
}

const deploy = (...args: string[]) => ns.exec('bash', [SCRIPT, '--home', home!, ...args])

describe.skipIf(reason !== undefined)('stale per-uid rules after a restart that moves a listener port', () => {
  beforeAll(async () => {
    cli = buildCli()
    writeFileSync(join(dirname(dirname(cli.main)), 'gateway.mjs'), GATEWAY)
    home = mkdtempSync(join(tmpdir(), 'meshsig-stale-'))
    await ns.create()
    const gw = ns.spawn([process.execPath, join(dirname(dirname(cli.main)), 'gateway.mjs')])
    await waitFor(() => gw.out().includes('gateway listening'), { message: gw.out() })
    const first = await startNode([])
    const env = { MESHSIG_HOME: home, MESHSIG_SERVER: `http://127.0.0.1:${API_PORT}` }
    for (const name of ['alice', 'bob'] as const) {
      const { stdout } = await ns.exec('bash', [REGISTER, name], env)
      agents[name] = (JSON.parse(stdout) as { did: string }).did
    }
    await stop(first.child)
  }, 180_000)

  afterAll(async () => {
    await ns.destroy()
    if (home) rmSync(home, { recursive: true, force: true })
    cli?.cleanup()
  }, 60_000)

  it("alice's uid is never signed as bob; the stale rule is refused until deploy-proxy.sh runs again", async () => {
    let node = await startNode([
      ...['--proxy-agent', `${agents.alice}=${PORT_A}:${ALICE_UID}`],
      ...['--proxy-agent', `${agents.bob}=${PORT_B}:${BOB_UID}`],
    ])
    await deploy('--agent', 'alice', String(GATEWAY_PORT)) // the uid comes from proxy.json
    await deploy(String(GATEWAY_PORT))
    expect((await callAs(ALICE_UID)).body).toMatchObject({ signed: true, keyid: agents.alice })
    // the operator restarts the node with bob's listener on the port alice's rule names (alice retired, or
    // ports renumbered), and does not run deploy-proxy.sh: the rules stay
    await stop(node.child)
    node = await startNode(['--proxy-agent', `${agents.bob}=${PORT_A}:${BOB_UID}`])
    expect(node.out()).toMatch(
      new RegExp(`WARNING: proxy listener 127\\.0\\.0\\.1:${PORT_A} signed as alice .*uid ${ALICE_UID}`),
    )
    const before = await callAs(BOB_UID) // bob has no rule yet: the default listener refuses him
    expect(before).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    for (let i = 0; i < 2; i++) {
      const after = await callAs(ALICE_UID)
      // before the fix: { status: 200, body: { signed: true, keyid: <bob> } }, uid 61931 spoke as bob
      expect(after).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
      expect(after.body.error).toMatch(new RegExp(`made by uid ${ALICE_UID}, but .* serves uid ${BOB_UID} only`))
    }
    const { stdout } = await ns.exec(process.execPath, ['--input-type=module', '-e', AUDIT])
    expect(JSON.parse(stdout)).toEqual([{ subject: agents.bob, client: `uid:${ALICE_UID}` }]) // once, not per request
    // deploying bob replaces the stale rule of his port: alice's uid now falls to the default listener
    await deploy('--agent', 'bob', String(GATEWAY_PORT))
    expect((await callAs(BOB_UID)).body).toMatchObject({ signed: true, keyid: agents.bob })
    const alice = await callAs(ALICE_UID)
    expect(alice).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(alice.body.error).toMatch(/no agent is attributed to this caller/)
    await stop(node.child)
  }, 120_000)
})
