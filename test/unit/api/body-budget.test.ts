/**
 * The body budget's arithmetic (api/body-budget.ts; docs/api.md, "Request bodies"; decision 0092). What a user
 * would check: a body is charged what it declares (a chunked one the whole limit, one past the limit nothing: it
 * is refused 413 unread), the operator may take the reserve and no one else, a bucket's count is its own, and
 * every charge comes back when released.
 */
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { BodyBudget, bodyCharge } from '../../../api/body-budget.js'

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage

describe('bodyCharge', () => {
  it('is the declared length, the limit for a chunked body, 0 without a body or past the limit', () => {
    expect(bodyCharge(request({ 'content-length': '512' }), 1024)).toBe(512)
    expect(bodyCharge(request({ 'transfer-encoding': 'chunked' }), 1024)).toBe(1024)
    expect(bodyCharge(request({}), 1024)).toBe(0)
    expect(bodyCharge(request({ 'content-length': '0' }), 1024)).toBe(0)
    expect(bodyCharge(request({ 'content-length': '2048' }), 1024)).toBe(0)
  })
})

describe('BodyBudget', () => {
  const limits = { bytes: 100, operatorReserve: 40, perClient: 2, minBytesPerSecond: 10, deadlineBaseMs: 1000 }
  const anon = { key: 'address:loopback', operator: false }
  const agent = { key: 'bearer:a', operator: false }
  const operator = { key: 'bearer:op', operator: true }

  it('keeps the reserve for the operator and counts each bucket apart', () => {
    const b = new BodyBudget(limits)
    expect(b.take(anon, 30)).toBeUndefined()
    expect(b.take(anon, 10)).toBeUndefined()
    expect(b.take(anon, 1)).toBe('client') // its third open body
    expect(b.take(agent, 30)).toBe('node') // 70 > 60, the non-operator share
    expect(b.take(agent, 20)).toBeUndefined()
    expect(b.take(operator, 40)).toBeUndefined() // the reserve
    expect(b.take(operator, 1)).toBe('node')
    expect(b.held).toBe(100)
  })

  it('gives every charge back on release', () => {
    const b = new BodyBudget(limits)
    expect(b.take(anon, 30)).toBeUndefined()
    expect(b.take(anon, 30)).toBeUndefined()
    b.release(anon, 30)
    b.release(anon, 30)
    expect(b.held).toBe(0)
    expect(b.take(anon, 60)).toBeUndefined()
    expect(b.take(anon, 0)).toBeUndefined()
  })

  it('gives a body its base deadline plus its size at the least rate', () => {
    expect(new BodyBudget(limits).deadlineMs(50)).toBe(6000)
  })
})
