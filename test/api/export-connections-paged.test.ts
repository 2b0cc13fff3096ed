/**
 * The NDJSON audit export reads connections a page at a time, as it reads
 * agents and revocations (review of stop 36's export): it read every row,
 * transcript included (a handshake's two signed proofs), and built every
 * view with its trust before the first line; each handshake is a row of
 * its own, so the list grows with handshakes, not with agents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionCursor } from '../../node/store/index.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture
const asked: { limit: number | undefined; after: ConnectionCursor | undefined }[] = []
const SAME_TIME = Date.now()

beforeAll(async () => {
  fx = await startApi()
  const repo = fx.node.store.auditEntries
  const transcript = { proof: 'x'.repeat(1000) }
  fx.node.store.transaction(() => {
    for (let i = 0; i < 600; i++) {
      // half of them at one time: the pages rest on the id to break ties
      const establishedAt = i < 300 ? SAME_TIME : SAME_TIME - i
      repo.addConnection({
        id: `conn-${String(i).padStart(4, '0')}`,
        aDid: fx.node.did,
        bDid: fx.node.did,
        transcript,
        establishedAt,
      })
    }
  })
  const read = repo.connections.bind(repo)
  repo.connections = (limit?: number, after?: ConnectionCursor) => {
    asked.push({ limit, after })
    return read(limit, after)
  }
}, 120_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('the NDJSON audit export: connections', () => {
  it('are read from the store a page at a time, each listed once, newest first', async () => {
    const r = await fx.call('GET', '/audit/export?format=ndjson')
    expect(r.status).toBe(200)
    const ids = r.text
      .split('\n')
      .filter((l) => l.startsWith('{"type":"connection"'))
      .map((l) => (JSON.parse(l) as { connection: { id: string } }).connection.id)
    expect(ids).toHaveLength(600)
    expect(new Set(ids).size).toBe(600)
    expect(ids.slice(0, 300)).toEqual([...ids.slice(0, 300)].sort())
    expect(asked.length).toBeGreaterThan(2)
    for (const q of asked) expect(q.limit, 'every read of the store is one page').toBeLessThanOrEqual(256)
  })
})
