// The deadline of an exchange (node/p2p/request-response.ts): with an outer signal it is a composite of a
// timeout and that signal. Node 20's AbortSignal.any holds its sources weakly and a collected
// AbortSignal.timeout never fires (nodejs/node#57736), so a garbage collection during a long dial (a DHT
// lookup under load) left deliveries without their 15 s deadline: attempts ran 50-80 s.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { deadline } from '../../node/p2p/request-response.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('deadline', () => {
  it('fires after its timeout even when a garbage collection ran meanwhile', async () => {
    const outer = new AbortController()
    const signals = [deadline(100, outer.signal), deadline(100)]
    for (let i = 0; i < 3; i++) {
      gc()
      await sleep(10)
    }
    await sleep(250)
    for (const signal of signals) {
      expect(signal.aborted).toBe(true)
      expect((signal.reason as Error).name).toBe('TimeoutError')
    }
  })

  it('fires when the outer signal aborts first', () => {
    const outer = new AbortController()
    const signal = deadline(60_000, outer.signal)
    outer.abort(new Error('stopping'))
    expect(signal.aborted).toBe(true)
    expect((signal.reason as Error).message).toBe('stopping')
  })
})
