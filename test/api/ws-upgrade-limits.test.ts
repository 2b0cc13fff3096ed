/**
 * WebSocket upgrades are requests like any other (SPEC §9, docs/api.md
 * "WebSocket event stream"; attack review of the local API, decision 0046):
 * they count against the client's bucket of the API's one rate limiter (all
 * of loopback one anonymous client, decision 0037; the operator token and an
 * agent credential each a bucket of their own), and anonymous clients hold
 * at most all but `stream.provenPercent` (25 %) of `stream.maxClients`, the
 * rest being kept for upgrades that send the operator token. Before, one
 * local user opened all 256 slots at once and the operator's own
 * subscription, token and all, was refused 503; a first fix kept the slots
 * for agent credentials too, and a review took them with the credential of
 * an agent it registered anonymously.
 */
import type { IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MeshsigClient, type StreamEvent } from '../../node/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

/** An open stream, or the status (and body) its upgrade was refused with. */
type Upgrade = { ws: WebSocket } | { status: number; body: string; retryAfter?: string }

let fx: ApiFixture | undefined
const held: WebSocket[] = []

afterEach(async () => {
  for (const ws of held.splice(0)) ws.terminate()
  expectNo500(fx)
  await fx?.stop()
  fx = undefined
})

function upgrade(url: string, bearer?: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const headers = bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers })
    ws.once('open', () => {
      held.push(ws)
      resolve({ ws })
    })
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => {
        const retryAfter = res.headers['retry-after']
        resolve({ status: res.statusCode ?? 0, body, ...(retryAfter !== undefined ? { retryAfter } : {}) })
      })
    })
    ws.once('error', reject)
  })
}

async function upgrades(url: string, count: number, bearer?: string): Promise<Upgrade[]> {
  const out: Upgrade[] = []
  for (let i = 0; i < count; i++) out.push(await upgrade(url, bearer))
  return out
}

const opened = (us: Upgrade[]): number => us.filter((u) => 'ws' in u).length
const statuses = (us: Upgrade[]): number[] => us.flatMap((u) => ('status' in u ? [u.status] : []))

describe('event stream upgrades', () => {
  it('count against the rate limit of their client: anonymous loopback gets 5 a minute, then 429', async () => {
    fx = await startApi({ rateLimit: 5 })
    const agent = (await fx.call('POST', '/agents/register', { name: 'subscriber' })).body.identity
    const anonymous = await upgrades(fx.url, 8)
    expect(opened(anonymous), 'anonymous streams opened').toBe(5)
    expect(statuses(anonymous)).toEqual([429, 429, 429])
    const refused = anonymous.at(-1) as { body: string; retryAfter?: string }
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'RATE_LIMITED', limit: 5, window: 60 })
    expect(Number(refused.retryAfter)).toBeGreaterThan(0)
    // one bucket with the HTTP requests of the same client
    expect((await fx.anon('GET', '/stats')).status).toBe(429)
    // the operator and an agent each have their own bucket, as for HTTP
    expect(opened(await upgrades(fx.url, 2, fx.token))).toBe(2)
    expect(opened(await upgrades(fx.url, 2, agent.credential as string))).toBe(2)
  })

  it('leave the slots kept for the operator to it: anonymous clients hold at most 6 of 9', async () => {
    fx = await startApi({}, {}, { init: { limits: { stream: { maxClients: 9 } } } })
    // anyone may register an agent and get its credential: it takes no kept slot
    const agent = (await fx.anon('POST', '/agents/register', { name: 'squatter' })).body.identity
    const anonymous = await upgrades(fx.url, 8)
    expect(opened(anonymous), 'anonymous streams opened').toBe(6)
    expect(statuses(anonymous)).toEqual([503, 503]) // 25 % of 9, rounded up: 3 slots kept
    // a bearer that proves nothing is anonymous, and so is an agent credential
    expect(statuses(await upgrades(fx.url, 1, 'not-a-credential'))).toEqual([503])
    expect(statuses(await upgrades(fx.url, 2, agent.credential as string))).toEqual([503, 503])
    // the operator's own subscriptions find the slots kept for them
    expect(opened(await upgrades(fx.url, 2, fx.token)), 'the operator’s streams').toBe(2)
    // the SDK's subscription with the operator token is one of them (it sends its token on the upgrade)
    const events: StreamEvent[] = []
    const stop = new MeshsigClient({ server: fx.url, token: fx.token }).subscribe((e) => events.push(e))
    await waitFor(() => events[0], { message: 'the snapshot of the SDK’s subscription' })
    expect(events[0]!.type).toBe('snapshot')
    // every slot taken now: proven or not, the next one waits
    expect(statuses(await upgrades(fx.url, 1, fx.token))).toEqual([503])
    stop()
    // an anonymous client that leaves frees its slot for another one
    const first = (anonymous[0] as { ws: WebSocket }).ws
    await new Promise((resolve) => {
      first.once('close', resolve)
      first.close()
    })
    await expect.poll(async () => opened(await upgrades(fx!.url, 1))).toBe(1)
  })
})
