/**
 * The dashboard's own lane (api/dashboard-pass.ts, decision 0050): the
 * operator asks `POST /dashboard/pass`, the page redeems the pass once at
 * `POST /dashboard/session` for an HttpOnly cookie, and requests carrying a
 * live session count against a rate-limit bucket of their own and may take
 * the stream slots kept for the operator. The attackers: another local user
 * (no token), an agent (its credential), a cookie of another node on the
 * same host, and anyone who tries to act with the cookie.
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

/** The `name=value` of the session cookie a redemption of `p` answers, or the status it was refused with. */
async function redeem(f: ApiFixture, p: unknown): Promise<{ cookie?: string; status: number; setCookie?: string }> {
  const r = await f.anon('POST', '/dashboard/session', { pass: p })
  const setCookie = r.headers['set-cookie'] as string | undefined
  return { status: r.status, ...(setCookie ? { setCookie, cookie: setCookie.split(';')[0]! } : {}) }
}

function upgradeStatus(url: string, cookie?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers: cookie ? { cookie } : {} })
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

  it('a pass is redeemed once for an HttpOnly SameSite=Strict cookie named for the port; junk is 401', async () => {
    fx = await startApi()
    const p = await pass(fx)
    const first = await redeem(fx, p)
    expect(first.status).toBe(204)
    const port = new URL(fx.url).port
    expect(first.setCookie).toMatch(new RegExp(`^meshsig_view_${port}=[A-Za-z0-9_-]{43}; Path=/; Max-Age=\\d+;`))
    expect(first.setCookie).toMatch(/HttpOnly/)
    expect(first.setCookie).toMatch(/SameSite=Strict/)
    for (const junk of [p, 'x'.repeat(43), 42, null, undefined]) {
      const again = await redeem(fx, junk)
      expect(again.status).toBe(401)
      expect(again.setCookie).toBeUndefined()
    }
  })

  it('a session counts against a bucket of its own while other local users spend theirs', async () => {
    fx = await startApi({ rateLimit: 5 })
    const { cookie } = await redeem(fx, await pass(fx))
    // another local user spends the bucket every anonymous loopback caller shares
    while ((await fx.anon('GET', '/stats')).status !== 429);
    for (let i = 0; i < 5; i++)
      expect((await fx.anon('GET', '/stats', undefined, { cookie: cookie! })).status).toBe(200)
    expect((await fx.anon('GET', '/stats', undefined, { cookie: cookie! })).status).toBe(429) // its own limit holds
    // a made-up cookie, or a cookie of another port's node, is anonymous
    const port = Number(new URL(fx.url).port)
    const forged = `meshsig_view_${port}=${'A'.repeat(43)}`
    const otherPort = cookie!.replace(`meshsig_view_${port}=`, `meshsig_view_${port + 1}=`)
    for (const c of [forged, otherPort])
      expect((await fx.anon('GET', '/stats', undefined, { cookie: c })).status).toBe(429)
  })

  it('a session acts as nothing: a revocation with only the cookie is refused and changes nothing', async () => {
    fx = await startApi()
    const { cookie } = await redeem(fx, await pass(fx))
    const agent = (await fx.call('POST', '/agents/register', { name: 'kept' })).body.identity
    const r = await fx.anon('POST', '/agents/revoke', { did: agent.did }, { cookie: cookie! })
    expect(r.status).toBe(401)
    expect((await fx.call('GET', `/agents/${agent.did}`)).body.status).toBe('active')
    const send = await fx.anon(
      'POST',
      '/messages/send',
      { fromDid: agent.did, toDid: null, message: 'x' },
      { cookie: cookie! },
    )
    expect(send.status).toBe(401)
  })

  it("a session's stream takes a slot kept for the operator when other local users hold the rest", async () => {
    fx = await startApi({}, {}, { init: { limits: { stream: { maxClients: 4 } } } })
    const { cookie } = await redeem(fx, await pass(fx))
    const anonymous: number[] = []
    for (let i = 0; i < 4; i++) anonymous.push(await upgradeStatus(fx.url))
    expect(anonymous).toEqual([101, 101, 101, 503]) // 25 % of 4: one slot kept
    expect(await upgradeStatus(fx.url, cookie)).toBe(101)
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
      expect((await redeem(fx, url.split('#pass=')[1])).status).toBe(204)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
