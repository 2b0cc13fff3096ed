/**
 * The per-peer queues of evidence relays (decision 0066, addendum; found by
 * attack review 100): at most `RELAY_CONCURRENCY` frames in flight to a peer,
 * and a relay is sent again until the peer answers 200 or 422, at most
 * `RELAY_ATTEMPTS` sends. Counts sends, not times.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { MeshP2P } from '../../../node/p2p/index.js'
import { EvidenceRelays, RELAY_ATTEMPTS, RELAY_CONCURRENCY } from '../../../node/services/witness-relays.js'

const answer = (status: number): Uint8Array => new TextEncoder().encode(JSON.stringify({ status }))

/** A stub p2p whose requests answer with the statuses `next` gives, counting sends and the most in flight at once. */
function stub(next: (sent: number) => number | Error): { p2p: () => MeshP2P; sent: () => number; peak: () => number } {
  let sent = 0
  let inFlight = 0
  let peak = 0
  const request = async (): Promise<Uint8Array> => {
    sent++
    inFlight++
    peak = Math.max(peak, inFlight)
    const n = sent
    await Promise.resolve()
    inFlight--
    const out = next(n)
    if (out instanceof Error) throw out
    return answer(out)
  }
  return { p2p: () => ({ request }) as unknown as MeshP2P, sent: () => sent, peak: () => peak }
}

describe('evidence relays', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('keeps at most RELAY_CONCURRENCY frames in flight to a peer, and sends each once when answered 200', async () => {
    const s = stub(() => 200)
    const relays = new EvidenceRelays(s.p2p, '/test')
    for (let i = 0; i < 40; i++) expect(relays.send('peer', new Uint8Array([i]))).toBe(true)
    await vi.runAllTimersAsync()
    expect(s.sent()).toBe(40)
    expect(s.peak()).toBeLessThanOrEqual(RELAY_CONCURRENCY)
    expect(relays.pending()).toBe(0)
  })

  it('sends a relay again after 429 or a failed stream until 200, and not after 422', async () => {
    const s = stub((n) => (n === 1 ? 429 : n === 2 ? new Error('stream closed') : 200))
    const relays = new EvidenceRelays(s.p2p, '/test')
    relays.send('peer', new Uint8Array([1]))
    await vi.runAllTimersAsync()
    expect(s.sent()).toBe(3)
    const refused = stub(() => 422)
    const once = new EvidenceRelays(refused.p2p, '/test')
    once.send('peer', new Uint8Array([1]))
    await vi.runAllTimersAsync()
    expect(refused.sent()).toBe(1)
  })

  it('gives up after RELAY_ATTEMPTS sends, and sends nothing after stop', async () => {
    const s = stub(() => 429)
    const relays = new EvidenceRelays(s.p2p, '/test')
    relays.send('peer', new Uint8Array([1]))
    await vi.runAllTimersAsync()
    expect(s.sent()).toBe(RELAY_ATTEMPTS)
    expect(relays.pending()).toBe(0)
    const t = stub(() => 429)
    const stopped = new EvidenceRelays(t.p2p, '/test')
    stopped.send('peer', new Uint8Array([1]))
    await Promise.resolve()
    stopped.stop()
    await vi.runAllTimersAsync()
    expect(t.sent()).toBe(1)
    expect(stopped.send('peer', new Uint8Array([2]))).toBe(false)
  })
})
