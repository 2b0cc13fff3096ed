import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

interface StreamEvent {
  type: string
  timestamp: string
  data: Record<string, unknown>
}

function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; events: StreamEvent[] }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers })
  const events: StreamEvent[] = []
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as StreamEvent))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events }))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

describe('WebSocket event stream', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('sends a snapshot first, then the events of register → handshake → send, in order', async () => {
    const { ws, events } = await connect(fx.url)
    await waitFor(() => events.length >= 1)
    expect(events[0]!.type).toBe('snapshot')
    expect(events[0]!.data).toHaveProperty('stats')
    const a = (await fx.call('POST', '/agents/register', { name: 'a' })).body.identity.did
    const b = (await fx.call('POST', '/agents/register', { name: 'b' })).body.identity.did
    const h = (await fx.call('POST', '/handshake', { fromDid: a, toDid: b })).body.connection.id
    const m = (await fx.call('POST', '/messages/send', { fromDid: a, toDid: b, message: 'hello' })).body.id
    await waitFor(() => events.some((e) => e.type === 'message:signed'))
    const seen = events.slice(1).map((e) => [e.type, e.data.did ?? e.data.id])
    expect(seen).toEqual([
      ['agent:registered', a],
      ['agent:registered', b],
      ['connection:established', h],
      ['message:signed', m],
    ])
    for (const e of events) expect(new Date(e.timestamp).toString()).not.toBe('Invalid Date')
    ws.close()
  })

  it('streams rejections, rotations and revocations too', async () => {
    const { ws, events } = await connect(fx.url)
    const a = (await fx.call('POST', '/agents/register', { name: 'c' })).body.identity.did
    await fx.call('POST', '/messages/send', {
      envelope: {
        v: 1,
        type: 'msg',
        from: a,
        to: null,
        body: 'x',
        ts: Date.now(),
        nonce: 'AAAAAAAAAAAAAAAAAAAAAA==',
        sig: 'A'.repeat(86) + '==',
      },
    })
    await fx.call('POST', '/agents/rotate-key', { did: a })
    await fx.call('POST', '/agents/revoke', { did: a, reason: 'done' })
    await waitFor(() => events.some((e) => e.type === 'agent:revoked'))
    const types = events.map((e) => e.type)
    // a custodied rotation also re-signs the agent's registration with the new key
    expect(types).toEqual([
      'snapshot',
      'agent:registered',
      'message:rejected',
      'agent:rotated',
      'agent:registered',
      'agent:revoked',
    ])
    expect(events[2]!.data.code).toBe('SIGNATURE_INVALID')
    ws.close()
  })

  it('refuses upgrades with a foreign Host or Origin, and unknown paths', async () => {
    await expect(connect(fx.url, { origin: 'https://evil.example' })).rejects.toThrow(/403/)
    await expect(connect(fx.url, { host: 'evil.example' })).rejects.toThrow(/403/)
    await expect(connect(fx.url + '/nope')).rejects.toThrow(/404/)
    const { ws } = await connect(fx.url + '/ws')
    ws.close()
  })
})
