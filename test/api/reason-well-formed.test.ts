/**
 * A refusal's reason is well formed (node/core/errors.ts `shortReason`;
 * review of stop 36's fixes). It was cut by UTF-16 code units: a cut inside
 * a surrogate pair (a sender's emoji in an unknown member's name) left a lone
 * surrogate, the audit entry's canonical form refused it
 * (node/core/canonical.ts), the refusal's transaction failed, and the refusal
 * was neither in the audit log nor on the stream (for gossip, the deliverer's
 * fault rolled back with it): an anonymous caller picked which refusals left
 * no trace.
 */
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MAX_REASON_CHARS, shortReason } from '../../node/core/errors.js'
import { junkEnvelope } from '../helpers/junk-envelope.js'
import { waitFor } from '../helpers/wait-for.js'
import { startApi } from './api-fixture.js'

describe('shortReason and surrogate pairs', () => {
  it('never leaves a lone surrogate: not at the cut, not one the sender escaped', () => {
    const text = 'x'.repeat(MAX_REASON_CHARS - 2) + '\u{1F600}' + 'y'.repeat(10)
    expect(shortReason(text).isWellFormed()).toBe(true)
    expect(shortReason(text).length).toBeLessThanOrEqual(MAX_REASON_CHARS)
    expect(shortReason('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc')
    expect(shortReason('ok \u{1F600}')).toBe('ok \u{1F600}')
  })

  it('a refusal whose reason is cut inside a surrogate pair is still audited and streamed', async () => {
    const fx = await startApi()
    try {
      const frames: string[] = []
      const ws = new WebSocket(fx.url.replace(/^http/, 'ws'))
      ws.on('message', (m: Buffer) => frames.push(m.toString()))
      await new Promise((r) => ws.once('open', r))
      const base = junkEnvelope(fx.node)
      const probe = await fx.anon('POST', '/messages/send', { envelope: { ...base, kQ: 1 } })
      const prefix = (probe.body.error as string).indexOf('kQ') // where the member name starts in the reason
      // (the reason the node keeps is the error's message; the answer may add nothing before it)
      const size = async (): Promise<number> => (await fx.anon('GET', '/audit/checkpoint')).body.size as number
      const before = await size()
      const pad = MAX_REASON_CHARS - 2 - prefix - 1 // the high surrogate at index 298: the cut keeps it alone
      const r = await fx.anon('POST', '/messages/send', {
        envelope: { ...base, ['k' + 'W'.repeat(pad) + '\u{1F600}' + 'W'.repeat(50)]: 1 },
      })
      expect(r.status).toBe(400)
      await waitFor(() => frames.filter((f) => f.includes('"message:rejected"')).length === 2, {
        message: 'both refusals on the stream',
      })
      expect(await size()).toBe(before + 1) // the refusal cut inside the emoji is audited too
      ws.close()
    } finally {
      await fx.stop()
    }
  })
})
