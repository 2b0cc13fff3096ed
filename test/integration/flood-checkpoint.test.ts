/**
 * On-demand checkpoints are rate limited (issue 9): the operator's
 * `POST /audit/checkpoint` signs at most one checkpoint per
 * `limits.onDemandCheckpointMs`; inside that interval it answers 200 with the
 * latest checkpoint and signs, stores and gossips nothing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { envelopeId } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'

const fixtures: ApiFixture[] = []

function checkpointEntries(fx: ApiFixture): number {
  return fx.node.store.auditEntries
    .entries(0, fx.node.store.auditEntries.count())
    .filter((r) => (JSON.parse(r.entry) as { kind: string }).kind === 'checkpoint').length
}

afterAll(async () => {
  for (const fx of fixtures) expectNo500(fx)
  await Promise.all(fixtures.map((fx) => fx.stop()))
})

describe('POST /audit/checkpoint', () => {
  it('signs once per interval; twenty more calls answer the latest and sign nothing', async () => {
    const fx = await startApi({}, {}, { init: { limits: { onDemandCheckpointMs: 3_600_000 } } })
    fixtures.push(fx)
    const first = await fx.call('POST', '/audit/checkpoint')
    expect(first.status).toBe(201)
    const entries = checkpointEntries(fx)
    for (let i = 0; i < 20; i++) {
      await fx.call('POST', '/agents/register', { name: `a${i}` }) // the log grows meanwhile
      const again = await fx.call('POST', '/audit/checkpoint')
      expect(again.status).toBe(200)
      expect(again.body).toMatchObject({ reused: true, gossiped: false })
      expect(envelopeId(again.body.checkpoint)).toBe(envelopeId(first.body.checkpoint))
    }
    expect(checkpointEntries(fx)).toBe(entries)
  })

  it('signs again once the interval has passed (0 turns the limit off)', async () => {
    const fx = await startApi({}, {}, { init: { limits: { onDemandCheckpointMs: 0 } } })
    fixtures.push(fx)
    const a = await fx.call('POST', '/audit/checkpoint')
    await fx.call('POST', '/agents/register', { name: 'between' })
    const b = await fx.call('POST', '/audit/checkpoint')
    expect([a.status, b.status]).toEqual([201, 201])
    expect(b.body.checkpoint.size).toBeGreaterThan(a.body.checkpoint.size)
  })
})
