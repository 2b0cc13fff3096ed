// Attack review 116, F1 (decision 0081): an anonymous local caller's POST /discover {"format":"a2a"} read the
// whole list of the node's own agents once per agent found (cardsOf -> agentCard listed every local agent and
// found one), so one request cost found x hosted rows, synchronously, on the node's one event loop (1,000 own
// agents: 1,000,000 rows). The cards are unchanged; asserted is that a request reads the rows it answers, in
// proportion to the agents found, not their product. Rows are counted, never time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from './api-fixture.js'

const N = 200
let fx: ApiFixture

/** Count every row the agents repository hands out (arrays by length, one row as one; outermost calls only). */
function meterRows(repo: Record<string, unknown>): { rows: number } {
  const meter = { rows: 0 }
  let depth = 0
  const proto = Object.getPrototypeOf(repo) as Record<string, unknown>
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name]
    if (name === 'constructor' || typeof fn !== 'function') continue
    repo[name] = (...args: unknown[]) => {
      depth++ // a method's own helpers hand out the same rows
      try {
        const out = (fn as (...a: unknown[]) => unknown).apply(repo, args)
        if (depth === 1 && Array.isArray(out)) meter.rows += out.length
        else if (depth === 1 && out !== null && typeof out === 'object') meter.rows += 1
        return out
      } finally {
        depth--
      }
    }
  }
  return meter
}

beforeAll(async () => {
  fx = await startApi()
  for (let i = 0; i < N; i++) {
    // another local user registers (anonymous, on loopback: allowed, decision 0013)
    const r = await fx.anon('POST', '/agents/register', { name: `filler-${i}`, capabilities: [{ type: 'x' }] })
    if (r.status !== 201) throw new Error(`register ${i}: ${r.status} ${r.text}`)
  }
}, 300_000)

afterAll(async () => {
  await fx?.stop()
})

describe('POST /discover with format a2a', () => {
  it('reads rows in proportion to what it answers, not found x hosted', async () => {
    const meter = meterRows((fx.node.store as unknown as { agents: Record<string, unknown> }).agents)
    const res = await fx.anon('POST', '/discover', { capability: 'x', limit: 1000, format: 'a2a' })
    expect(res.status).toBe(200)
    expect(res.body.total).toBe(N)
    expect(res.body.cards).toHaveLength(N) // every hosted agent found gets its signed card
    // one read of the agents found and a row per card; before the fix N * N + N (40,200)
    expect(meter.rows).toBeLessThanOrEqual(4 * N)
  }, 300_000)
})
