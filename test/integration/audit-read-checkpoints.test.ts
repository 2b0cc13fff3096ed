/**
 * Unauthenticated reads (the export, proofs without a size) sign at most one
 * checkpoint per interval: each new one is stored, logged and gossiped to
 * every node, so a reader must not be able to make the mesh sign at will.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIN_READ_CHECKPOINT_INTERVAL_MS } from '../../node/audit/audit-service.js'
import { verifyAuditExport } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'

describe('read-only audit endpoints and new checkpoints', () => {
  let fx: ApiFixture
  let did: string
  const checkpoints = (): number => fx.node.store.auditEntries.checkpoints().length
  const checkpointEntries = (): number =>
    fx.node.store.auditEntries
      .entries(0, fx.node.audit.size())
      .filter((row) => (JSON.parse(row.entry) as { kind: string }).kind === 'checkpoint').length
  const traffic = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const r = await fx.call('POST', '/messages/send', { fromDid: did, toDid: null, message: `m${i}` })
      expect(r.status).toBe(200)
    }
  }

  beforeAll(async () => {
    fx = await startApi() // the default interval
    did = (await fx.call('POST', '/agents/register', { name: 'reader-test' })).body.identity.did
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('the default interval is ten seconds', () => {
    expect(MIN_READ_CHECKPOINT_INTERVAL_MS).toBe(10_000)
  })

  it('repeated reads after new traffic sign at most one new checkpoint, and the export still verifies', async () => {
    await traffic(3)
    const before = { stored: checkpoints(), logged: checkpointEntries() }
    const first = await fx.call('GET', '/audit/export')
    expect(first.status).toBe(200)
    await traffic(2)
    const second = await fx.call('GET', '/audit/export')
    expect(second.status).toBe(200)
    await traffic(2)
    expect((await fx.call('GET', '/audit/proof/0')).status).toBe(200)
    expect((await fx.call('GET', '/audit/consistency?first=1')).status).toBe(200)
    expect(checkpoints() - before.stored).toBeLessThanOrEqual(1)
    expect(checkpointEntries() - before.logged).toBeLessThanOrEqual(1)
    // the second export answers from the same checkpoint: entries after it are not in it
    expect(second.body.checkpoint).toEqual(first.body.checkpoint)
    expect(second.body.entries).toHaveLength(second.body.checkpoint.size)
    expect(second.body.checkpoint.size).toBeLessThan(fx.node.audit.size())
    for (const body of [first.body, second.body]) {
      const verdict = verifyAuditExport(body)
      expect(verdict.ok).toBe(true)
    }
    // proofs without a size use that checkpoint's size too
    expect((await fx.call('GET', '/audit/proof/0')).body.size).toBe(second.body.checkpoint.size)
    expect((await fx.call('GET', '/audit/consistency?first=1')).body.second).toBe(second.body.checkpoint.size)
  })

  it('the operator still signs on demand', async () => {
    const before = checkpoints()
    const r = await fx.call('POST', '/audit/checkpoint')
    expect(r.status).toBe(201)
    expect(checkpoints()).toBe(before + 1)
    expect(r.body.checkpoint.size).toBe(fx.node.audit.size() - 1)
  })
})
