/**
 * Attack review 101, F2: trust sampling (node/services/history-report.ts
 * `sampleTrust`) runs on every `GET /history/rates` and
 * `GET /history/agents/:did` (both open to anyone), not once a minute. Each
 * run reads the public record of every agent with trust evidence (its row,
 * its key state and its evidence twice: `AgentService.record`) and builds a
 * new map of every such agent's score; the node keeps 60 of those maps (one
 * per minute), each a full copy even when no score changed.
 *
 * Measured at 20,000 agents with evidence: ~1.5 s of event loop per request
 * and ~2.5 MiB per kept sample; at 100,000: ~14 s per request and ~12 MiB per
 * sample (~700 MiB for the hour). Mesh peers can make a node hold 250,000
 * agents (registry quota), and every message between two registered agents
 * gives its sender evidence.
 *
 * Counted here, not timed: agent records read per request, and score entries
 * the node keeps for an hour of unchanged evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey } from '../../node/core/index.js'
import { randomBytes } from 'node:crypto'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const AGENTS = 3_000
const MINUTE = 60_000

let fx: ApiFixture
let now = Date.UTC(2026, 11, 7, 10, 0, 30)
const dids: string[] = []
let reads = 0

beforeAll(async () => {
  fx = await startApi({}, {}, { init: { clock: () => now } })
  const { store } = fx.node
  // agents of the mesh, each with trust evidence (direct store writes: what gossip of their messages leaves)
  store.transaction(() => {
    for (let i = 0; i < AGENTS; i++) {
      const did = didFromPublicKey(randomBytes(32))
      dids.push(did)
      store.agents.upsert({
        did,
        name: `mesh-${i}`,
        capabilities: [],
        controller: did,
        peerId: '12D3KooWFakePeer',
        origin: 'remote',
        regId: randomBytes(32).toString('hex'),
        regEnvelope: '{}',
        regTs: now,
        createdAt: now,
        lastSeenAt: now,
      })
    }
  })
  for (const did of dids) store.trust.add('did', did, 0.5, 0)
  const get = store.agents.get.bind(store.agents)
  store.agents.get = (did: string) => {
    reads++
    return get(did)
  }
}, 300_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('trust sampling, as anyone reading the history', () => {
  it('a request in a minute already sampled reads no agent again', async () => {
    now += MINUTE
    fx.node.history().trustAverages() // the node's own sample of this minute (node/services/trust-sampling.ts)
    reads = 0
    for (let i = 0; i < 10; i++) expect((await fx.anon('GET', '/history/rates')).status).toBe(200)
    expect((await fx.anon('GET', `/history/agents/${encodeURIComponent(dids[0]!)}`)).status).toBe(200)
    expect(
      reads,
      `agent records read by 11 anonymous GETs in one minute (${AGENTS} agents with evidence)`,
    ).toBeLessThanOrEqual(AGENTS)
  }, 120_000)

  it('an hour of unchanged scores is not kept as 60 full copies', () => {
    for (let i = 0; i < 60; i++) {
      now += MINUTE
      fx.node.history().trustAverages()
    }
    const samples = (fx.node.history() as unknown as { trustSamples: { scores: Map<string, number> }[] }).trustSamples
    const kept = samples.reduce((n, s) => n + s.scores.size, 0)
    expect(samples).toHaveLength(60)
    expect(kept, `score entries kept for ${samples.length} samples of ${AGENTS} unchanged scores`).toBeLessThanOrEqual(
      2 * AGENTS,
    )
  }, 300_000)
})
