/**
 * What the event stream counts against a client (api/stream-ledger.ts, decision 0091): bytes sent since the last
 * ping it answered, released only by a pong echoing that ping's payload; a client already behind is refused what
 * would take it past `stream.maxBufferedBytes`, a caught-up one always takes one event, and all clients together
 * stay within `stream.maxTotalBufferedBytes`, anonymous ones within all but `provenPercent` of it.
 */
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import { describe, expect, it } from 'vitest'
import { CONTROL_FRAMES_PER_ROUND, StreamLedger } from '../../../api/stream-ledger.js'

/** Enough of a ws client for the ledger: it records pings and how it was ended. */
class FakeClient extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  pings: Buffer[] = []
  ended: 'open' | 'closed' | 'terminated' = 'open'
  closeCode: number | undefined
  ping(data: Buffer): void {
    this.pings.push(data)
  }
  close(code: number): void {
    this.ended = 'closed'
    this.closeCode = code
    this.readyState = 2
  }
  terminate(): void {
    this.ended = 'terminated'
    this.emit('close')
  }
}

const LIMITS = { maxBufferedBytes: 1000, maxTotalBufferedBytes: 4000, maxClients: 8, provenPercent: 25 }

function client(ledger: StreamLedger, proven = false): FakeClient & WebSocket {
  const c = new FakeClient() as FakeClient & WebSocket
  ledger.open(c, proven)
  return c
}

describe('StreamLedger', () => {
  it('counts a client behind until a pong echoes the ping sent after its bytes', () => {
    const ledger = new StreamLedger(LIMITS)
    const c = client(ledger)
    ledger.sent(c, 600)
    expect(c.pings).toHaveLength(1)
    ledger.sent(c, 300) // a ping is out: no second one
    expect(c.pings).toHaveLength(1)
    ledger.pong(c, Buffer.alloc(8)) // unsolicited: proves nothing
    expect(ledger.held().total).toBe(900)
    ledger.pong(c, c.pings[0]!) // releases the 600 sent before it, pings again for the 300
    expect(ledger.held().total).toBe(300)
    expect(c.pings).toHaveLength(2)
    ledger.pong(c, c.pings[1]!)
    expect(ledger.held()).toEqual({ total: 0, anonymous: 0 })
  })

  it('refuses a client already behind past its bound; a caught-up one takes one event of any size', () => {
    const ledger = new StreamLedger(LIMITS)
    const c = client(ledger)
    expect(ledger.refusal(c, 2000)).toBeUndefined()
    ledger.sent(c, 2000)
    expect(ledger.refusal(c, 1)).toBe('client')
    ledger.pong(c, c.pings[0]!)
    expect(ledger.refusal(c, 1000)).toBeUndefined()
    ledger.sent(c, 400)
    expect(ledger.refusal(c, 600)).toBeUndefined()
    expect(ledger.refusal(c, 601)).toBe('client')
  })

  it('keeps all clients within the total, anonymous ones within their share, and releases a closed client', () => {
    const ledger = new StreamLedger(LIMITS) // anonymous share: 4000 less 25 % = 3000
    const anonymous = [client(ledger), client(ledger), client(ledger)]
    for (const c of anonymous) ledger.sent(c, 900)
    const late = client(ledger)
    expect(ledger.refusal(late, 400)).toBe('total')
    const proven = client(ledger, true)
    expect(ledger.refusal(proven, 400)).toBeUndefined()
    ledger.sent(proven, 1000)
    expect(ledger.refusal(client(ledger, true), 400)).toBe('total')
    anonymous[0]!.terminate()
    expect(ledger.held()).toEqual({ total: 2800, anonymous: 1800 })
    expect(ledger.refusal(late, 400)).toBeUndefined()
  })

  it('terminates a client whose ping is still out a round later, and pings idle clients', () => {
    const ledger = new StreamLedger(LIMITS)
    const stalled = client(ledger)
    const idle = client(ledger)
    ledger.sent(stalled, 10)
    ledger.round()
    expect(idle.pings).toHaveLength(1)
    ledger.pong(stalled, Buffer.alloc(8)) // a pong nobody asked for keeps nothing alive
    ledger.pong(idle, idle.pings[0]!)
    ledger.round()
    expect(stalled.ended).toBe('terminated')
    expect(idle.ended).toBe('open')
    expect(idle.pings).toHaveLength(2)
  })

  it('closes a client with 1008 past the control frames a round allows', () => {
    const ledger = new StreamLedger(LIMITS)
    const c = client(ledger)
    for (let i = 0; i < CONTROL_FRAMES_PER_ROUND; i++) ledger.control(c)
    ledger.round()
    for (let i = 0; i < CONTROL_FRAMES_PER_ROUND; i++) ledger.control(c)
    expect(c.ended).toBe('open')
    ledger.control(c)
    expect(c.ended).toBe('closed')
    expect(c.closeCode).toBe(1008)
  })
})
