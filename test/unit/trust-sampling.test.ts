/**
 * Trust over time is sampled by the node itself (node/services/trust-sampling.ts):
 * once at start and then at a fixed interval, so `GET /history/rates` holds
 * the last hour even when no dashboard asked during it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { trustSampling } from '../../node/services/trust-sampling.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const MINUTE = 60_000

describe('trust sampling (issue 14)', () => {
  let nodes: MeshNode[] = []
  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a node samples trust when it starts, without being asked', async () => {
    let now = Date.UTC(2026, 11, 3, 10, 0, 30)
    const node = await startNode({ init: { clock: () => now } })
    nodes.push(node)
    await node.registerAgent('sampled', [])
    now += 3 * MINUTE
    const series = node.history().trustAverages()
    // the start sample (minute 10:00) and the one this call takes (10:03); asked only once
    expect(series.map((p) => new Date(p.t).toISOString().slice(11, 16))).toEqual(['10:00', '10:03'])
    expect(series[1]?.score).toBeGreaterThan(0)
  })

  it('samples again at every interval until stopped, and reports a failed sample', async () => {
    let calls = 0
    const errors: unknown[] = []
    const sampler = trustSampling(
      () => ({
        trustAverages: () => {
          calls++
          if (calls === 2) throw new Error('store closed')
        },
      }),
      (err) => errors.push(err),
      10,
    )
    sampler.start()
    expect(calls).toBe(1)
    await waitFor(() => calls >= 4)
    sampler.stop()
    const stoppedAt = calls
    await new Promise((r) => setTimeout(r, 60))
    expect(calls).toBe(stoppedAt)
    expect(errors).toHaveLength(1)
  })
})
