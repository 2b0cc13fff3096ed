/**
 * A revocation's time is its revoker's signed `ts`, up to MAX_TS (8.64e15,
 * 16 digits), but the page cursor took at most 15 digits of ms: a DID that
 * revoked itself "in the year 33658" made the `next` of a page ending on it a
 * cursor the node refused (400), so the paged walk of GET /revoked and
 * meshsig_revoked stopped there, every honest revocation after it out of reach
 * (attack review 96). The cursor takes 16 digits now, at most MAX_TS.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocation } from '../../node/core/index.js'
import { fillRegistry, signAgentsWithKeys } from '../helpers/registry-fill.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { mcpInProcess } from '../mcp/mcp-in-process.js'

let fx: ApiFixture
const FAR = 1_000_000_000_000_000 // year ~33658; MAX_TS is 8.64e15
const HOSTILE = 25
const HONEST = 5

beforeAll(async () => {
  fx = await startApi()
  const honest = signAgentsWithKeys(HONEST, fx.node, 'honest')
  const hostile = signAgentsWithKeys(HOSTILE, fx.node, 'hostile')
  fillRegistry(
    fx.node,
    [...honest, ...hostile].map((a) => a.envelopes),
  )
  const now = Date.now()
  fillRegistry(
    fx.node,
    honest.map((a) => [createRevocation(fx.node.store.keyEvents.state(a.did)!, a.key, 'compromised', now)]),
  )
  fillRegistry(
    fx.node,
    hostile.map((a, i) => [createRevocation(fx.node.store.keyEvents.state(a.did)!, a.key, 'x', FAR + i)]),
  )
}, 120_000)

afterAll(async () => {
  await fx?.stop()
})

describe('a revocation signed far in the future', () => {
  it('GET /revoked?limit&cursor walks every revoked DID', async () => {
    expect(fx.node.revoked().length).toBe(HONEST + HOSTILE)
    const walked: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 10; pages++) {
      const path: string = `/revoked?limit=20${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const r = await fx.anon('GET', path)
      expect({ status: r.status, cursor, body: r.status === 200 ? 'ok' : r.body }).toMatchObject({ status: 200 })
      walked.push(...(r.body.revoked as { did: string }[]).map((v) => v.did))
      cursor = r.body.next
      if (cursor === null) break
    }
    expect(walked.length).toBe(HONEST + HOSTILE)
  })

  it('meshsig_revoked reaches the honest revocations with the next it was given', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'r96-rev-')), 'home')
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: fx.url })
    const first = await mcp.call('meshsig_revoked', { limit: 25 })
    expect(first.isError).toBe(false)
    const second = await mcp.call('meshsig_revoked', { limit: 25, cursor: first.data.next })
    await mcp.close()
    expect({ isError: second.isError, text: second.text.slice(0, 300) }).toMatchObject({ isError: false })
    expect(second.data.revoked.length).toBe(HONEST)
  })
})
