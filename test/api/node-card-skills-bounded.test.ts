// Attack review 116, F3 (decision 0081): GET /.well-known/agent-card.json, anonymous and signed by the node key
// on every request, listed the union of the capability types of every active own agent, unbounded. Anyone on
// loopback may register agents with 64 types each (decision 0013), and decision 0059 bounds what the node
// announces of those types at limits.discovery.providedTypes for that reason; the card had no bound (300
// registrations: 18,901 skills, a 5.6 MB card canonicalised and signed per GET). The card's skills are now the
// announced set, and the card is signed again only when what it is built from changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import type { ProxySigner } from '../../node/proxy/signer-policy.js'
import { waitFor } from '../helpers/wait-for.js'
import { startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture
const REGISTRATIONS = 8
const dids: string[] = []
const signings = { n: 0 }

const junk = (i: number): { type: string }[] =>
  Array.from({ length: 64 }, (_, j) => ({ type: `junk-${i}-${j}-${'p'.repeat(48)}` }))

async function skills(): Promise<string[]> {
  const res = await fx.anon('GET', '/.well-known/agent-card.json')
  expect(res.status).toBe(200)
  return ((res.body as { skills?: { id: string }[] }).skills ?? []).map((s) => s.id)
}

beforeAll(async () => {
  fx = await startApi()
  for (let i = 0; i < REGISTRATIONS; i++) {
    const r = await fx.anon('POST', '/agents/register', { name: `junk-${i}`, capabilities: junk(i) })
    if (r.status !== 201) throw new Error(`register ${i}: ${r.status} ${r.text}`)
    dids.push((r.body as { identity: { did: string } }).identity.did)
  }
  // count what the node key signs (the card's JWS among it)
  const node = fx.node as unknown as { proxySigner(did?: string): ProxySigner | undefined }
  const own = node.proxySigner.bind(node)
  node.proxySigner = (did?: string) => {
    const signer = own(did)
    if (did !== undefined || signer === undefined) return signer
    return { ...signer, sign: (data: Uint8Array) => (signings.n++, signer.sign(data)) }
  }
}, 120_000)

afterAll(async () => {
  await fx?.stop()
})

describe("the node's A2A card", () => {
  it('lists a bounded number of skills, the announced types, whatever anonymous registrations carry', async () => {
    const listed = await skills()
    // before the fix: 8 x 64 = 512 distinct junk types, every one a skill of the signed card
    expect(listed.length).toBeLessThanOrEqual(DEFAULT_LIMITS.discovery.providedTypes)
    expect(listed.sort()).toEqual([...fx.node.announcedTypes()].sort())
  }, 60_000)

  it('is signed again only when what it is built from changed', async () => {
    signings.n = 0
    await skills()
    await skills()
    expect(signings.n).toBe(0) // served as signed by the test before
    // the oldest agent's types leave the announced set when it is revoked; the next ones take their slots
    const gone = new Set(junk(0).map((c) => c.type))
    expect((await fx.call('POST', '/agents/revoke', { did: dids[0], reason: 'test' })).status).toBe(200)
    await waitFor(() => fx.node.announcedTypes().length === 256 && !fx.node.announcedTypes().some((t) => gone.has(t)))
    const listed = await skills()
    expect(signings.n).toBe(1)
    expect(listed.some((t) => gone.has(t))).toBe(false)
    expect(listed.sort()).toEqual([...fx.node.announcedTypes()].sort())
  }, 60_000)
})
