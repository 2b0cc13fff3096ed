/**
 * A proxy listener's signing rate (node/proxy/listener-bounds.ts, docs/proxy.md "Limits") refills with the
 * time that passes, whatever the wall clock did: after the clock stepped back an hour (an NTP step, a restored
 * VM), a bucket that kept the later time gave nothing until the clock caught up, while its 429 said to retry in
 * seconds (attack review 95).
 */
import { describe, expect, it } from 'vitest'
import { ListenerRate } from '../../node/proxy/listener-bounds.js'

describe('the signing rate of a proxy listener', () => {
  it('refills at its rate and holds at most a minute of requests', () => {
    const rate = new ListenerRate(2)
    const t = Date.UTC(2030, 0, 1)
    expect([rate.take(t), rate.take(t), rate.take(t)]).toEqual([true, true, false])
    expect(rate.retryAfter()).toBe(30)
    expect(rate.take(t + 30_000)).toBe(true)
    expect(rate.take(t + 10 * 60_000)).toBe(true)
    expect(rate.take(t + 10 * 60_000)).toBe(true)
    expect(rate.take(t + 10 * 60_000)).toBe(false)
  })

  it('after the clock stepped back, refills from the new time on', () => {
    const rate = new ListenerRate(2)
    const t = Date.UTC(2030, 0, 1)
    expect([rate.take(t), rate.take(t), rate.take(t)]).toEqual([true, true, false])
    const back = t - 3_600_000
    expect(rate.take(back)).toBe(false) // no time passed for the bucket
    expect(rate.take(back + 30_000)).toBe(true)
  })
})
