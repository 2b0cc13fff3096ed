import { describe, expect, it } from 'vitest'
import { RANDOM_POOL_BYTES, randomBytesPooled } from '../../node/random-pool.js'

describe('pooled random bytes', () => {
  it('hands out every byte once: no two draws share bytes, across refills', () => {
    const seen = new Set<string>()
    const draws = (RANDOM_POOL_BYTES / 16) * 5
    for (let i = 0; i < draws; i++) seen.add(Buffer.from(randomBytesPooled(16)).toString('hex'))
    expect(seen.size).toBe(draws)
  })

  it('returns copies of the asked length, large requests included', () => {
    const a = randomBytesPooled(32)
    const copy = Buffer.from(a)
    randomBytesPooled(RANDOM_POOL_BYTES) // a large draw straight from the OS
    a.fill(0)
    expect(randomBytesPooled(32)).not.toEqual(new Uint8Array(32))
    expect(copy).toHaveLength(32)
    expect(randomBytesPooled(0)).toHaveLength(0)
    expect(() => randomBytesPooled(-1)).toThrow(RangeError)
  })
})
