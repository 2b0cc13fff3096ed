/**
 * A refusal's reason leaves the node bounded (node/core/errors.ts
 * `shortReason`; attack review of the dashboard, stop 36). The node's reason
 * for an envelope with an unknown member repeats that member's name whole,
 * and `message:rejected` goes to every stream client: one anonymous request
 * with a 700,000-character member name put that much text in every open
 * dashboard, and a burst passed the stream's 1 MiB per-client buffer, so the
 * node cut the dashboard off and the events sent meanwhile never reached it.
 */
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MAX_REASON_CHARS } from '../../node/core/errors.js'
import { junkEnvelope } from '../helpers/junk-envelope.js'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

/** An envelope with an unknown member whose name is `chars` long. */
function withLongMember(fx: ApiFixture, i: number, chars: number): Record<string, unknown> {
  return junkEnvelope(fx.node, { [`k${i}`.padEnd(chars, 'W')]: 1 })
}

describe('refusal reasons sent to stream clients', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('are cut to MAX_REASON_CHARS, and a burst of huge refusals does not cut a client off the stream', async () => {
    const frames: string[] = []
    let closed = false
    const ws = new WebSocket(fx.url.replace(/^http/, 'ws'))
    ws.on('message', (m: Buffer) => frames.push(m.toString()))
    ws.on('close', () => (closed = true))
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      throw new Error(`upgrade refused ${res.statusCode}`)
    })
    await waitFor(() => frames.length > 0, { message: 'the snapshot' })
    // an anonymous caller: 12 refusals of 700,000-character member names, about 8 MB of reasons before the cut
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fx.anon('POST', '/messages/send', { envelope: withLongMember(fx, i, 700_000) }),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(400))
    const canary = await fx.call('POST', '/agents/register', { name: 'canary' })
    const did = canary.body.identity.did as string
    await waitFor(() => frames.some((f) => f.includes(did)), { message: "the canary's registration on the stream" })
    expect(closed).toBe(false)
    const rejected = frames.map((f) => JSON.parse(f)).filter((e) => e.type === 'message:rejected')
    expect(rejected.length).toBe(12)
    for (const e of rejected) expect(e.data.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS)
    expect(Math.max(...frames.slice(1).map((f) => f.length))).toBeLessThan(2_000) // every event after the snapshot
    ws.close()
  })
})
