/**
 * The dashboard's own lane (api/dashboard-pass.ts, decision 0050): the
 * operator asks `POST /dashboard/pass`, the page redeems the pass once at
 * `POST /dashboard/session` for a session secret it sends as `X-Meshsig-View`
 * (and on its stream as a `meshsig-view.` subprotocol), and requests carrying
 * a live session count against a rate-limit bucket of their own and may take
 * the stream slots kept for the operator. The attackers: another local user
 * (no token), an agent (its credential), a made-up session, and anyone who
 * tries to act with a session.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../cli/app.js'
import type { CliIo } from '../../cli/context.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture | undefined
const held: WebSocket[] = []

afterEach(async () => {
  for (const ws of held.splice(0)) ws.terminate()
  expectNo500(fx)
  await fx?.stop()
  fx = undefined
})

/** A pass from the node, as the operator. */
async function pass(f: ApiFixture): Promise<string> {
  const r = await f.call('POST', '/dashboard/pass')
  expect(r.status).toBe(201)
  expect(r.body.pass).toMatch(/^[A-Za-z0-9_-]{43}$/)
  return r.body.pass as string
}

/** The session a redemption of `p` answers, or the status it was refused with. */
async function redeem(f: ApiFixture, p: unknown): Promise<{ session?: string; status: number; setCookie?: unknown }> {
  const r = await f.anon('POST', '/dashboard/session', { pass: p })
  return {
    status: r.status,
    setCookie: r.headers['set-cookie'],
    ...(r.status === 200 ? { session: r.body.session } : {}),
  }
}

const lane = (session: string): Record<string, string> => ({ 'x-meshsig-view': session })

function upgradeStatus(url: string, session?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const protocols = session ? ['meshsig.v1', `meshsig-view.${session}`] : []
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols)
    ws.once('open', () => {
      held.push(ws)
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res: IncomingMessage) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

describe('dashboard pass', () => {
  it('only the operator gets a pass: 401 without a bearer, 403 with an agent credential', async () => {
    fx = await startApi()
    expect((await fx.anon('POST', '/dashboard/pass')).status).toBe(401)
    const agent = (await fx.call('POST', '/agents/register', { name: 'a' })).body.identity
    const r = await fx.anon('POST', '/dashboard/pass', undefined, { authorization: `Bearer ${agent.credential}` })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('FORBIDDEN')
  })

  it('a pass is redeemed once for a session secret, never a cookie; junk is 401', async () => {
    fx = await startApi()
    const p = await pass(fx)
    const first = await redeem(fx, p)
    expect(first.status).toBe(200)
    expect(first.session).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(first.setCookie).toBeUndefined()
    for (const junk of [p, 'x'.repeat(43), 42, null, undefined]) {
      const again = await redeem(fx, junk)
      expect(again.status).toBe(401)
      expect(again.session).toBeUndefined()
    }
  })

  it('a session counts against a bucket of its own while other local users spend theirs', async () => {
    fx = await startApi({ rateLimit: 5 })
    const { session } = await redeem(fx, await pass(fx))
    // another local user spends the bucket every anonymous loopback caller shares
    while ((await fx.anon('GET', '/stats')).status !== 429);
    for (let i = 0; i < 5; i++) expect((await fx.anon('GET', '/stats', undefined, lane(session!))).status).toBe(200)
    expect((await fx.anon('GET', '/stats', undefined, lane(session!))).status).toBe(429) // its own limit holds
    // a made-up session, or the session sent as a cookie, is anonymous
    expect((await fx.anon('GET', '/stats', undefined, lane('A'.repeat(43)))).status).toBe(429)
    const port = new URL(fx.url).port
    const cookie = { cookie: `meshsig_view_${port}=${session!}` }
    expect((await fx.anon('GET', '/stats', undefined, cookie)).status).toBe(429)
  })

  it('a session acts as nothing: a revocation with only the session is refused and changes nothing', async () => {
    fx = await startApi()
    const { session } = await redeem(fx, await pass(fx))
    const agent = (await fx.call('POST', '/agents/register', { name: 'kept' })).body.identity
    const r = await fx.anon('POST', '/agents/revoke', { did: agent.did }, lane(session!))
    expect(r.status).toBe(401)
    expect((await fx.call('GET', `/agents/${agent.did}`)).body.status).toBe('active')
    const send = await fx.anon(
      'POST',
      '/messages/send',
      { fromDid: agent.did, toDid: null, message: 'x' },
      lane(session!),
    )
    expect(send.status).toBe(401)
  })

  it("a session's stream takes a slot kept for the operator when other local users hold the rest", async () => {
    fx = await startApi({}, {}, { init: { limits: { stream: { maxClients: 4 } } } })
    const { session } = await redeem(fx, await pass(fx))
    const anonymous: number[] = []
    for (let i = 0; i < 4; i++) anonymous.push(await upgradeStatus(fx.url))
    expect(anonymous).toEqual([101, 101, 101, 503]) // 25 % of 4: one slot kept
    expect(await upgradeStatus(fx.url, 'A'.repeat(43))).toBe(503) // a made-up session is anonymous
    expect(await upgradeStatus(fx.url, session)).toBe(101)
  })

  it('meshsig dashboard prints a link whose pass the page can redeem, after the node proved the home token', async () => {
    fx = await startApi()
    const dir = mkdtempSync(join(tmpdir(), 'meshsig-dash-'))
    try {
      const home = join(dir, 'home')
      mkdirSync(home, { mode: 0o700 })
      const cli = async (): Promise<{ code: number; out: string }> => {
        let out = ''
        const io: CliIo = {
          stdout: (t) => void (out += t),
          stderr: () => undefined,
          readStdin: async () => new Uint8Array(),
          env: { MESHSIG_HOME: home, MESHSIG_SERVER: fx!.url },
          now: () => Date.now(),
        }
        return { code: await runCli(['node', 'meshsig', 'dashboard', '--json'], io), out }
      }
      // no token in the home: the node refuses, nothing is printed as a link
      const refused = await cli()
      expect(refused.code).toBe(1)
      expect(JSON.parse(refused.out)).toMatchObject({ code: 'UNAUTHORIZED' })
      writeFileSync(join(home, 'api-token'), fx.token + '\n', { mode: 0o600 })
      const ok = await cli()
      expect(ok.code).toBe(0)
      const { url } = JSON.parse(ok.out) as { url: string }
      expect(url.startsWith(`${fx.url}/#pass=`)).toBe(true)
      expect((await redeem(fx, url.split('#pass=')[1])).status).toBe(200)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
