/**
 * The DHT provider records other peers leave in a node's memory are bounded per provider PeerId and in total,
 * the oldest evicted first, and the node's own records are not counted (node/p2p/provider-store.ts; decision
 * 0080). Providers found for a discovery are cut after the preferred ones and a shuffle (capability.ts).
 */
import { Key } from 'interface-datastore'
import { describe, expect, it } from 'vitest'
import { capabilityCid, connectedFirst, pickProviders } from '../../node/p2p/capability.js'
import { PROVIDER_KEY_PREFIX, ProviderBoundedDatastore, providerKeyPrefix } from '../../node/p2p/provider-store.js'

const SELF = 'self-peer'
/** The provider-key prefix of capability type `type` (a 55-char base32 sha2-256 multihash, as kad-dht writes it). */
const under = (type: string): string => providerKeyPrefix(capabilityCid(`t-${type}`).multihash.bytes)
const record = (type: string, peer: string): Key => new Key(`${under(type)}${peer}`)
const time = new Uint8Array([1])

async function stored(ds: ProviderBoundedDatastore, prefix = PROVIDER_KEY_PREFIX): Promise<string[]> {
  const keys: string[] = []
  for await (const k of ds.queryKeys({ prefix })) keys.push(k.toString())
  return keys
}

describe('ProviderBoundedDatastore', () => {
  it('keeps at most perPeer records of one provider, evicting its oldest', async () => {
    const ds = new ProviderBoundedDatastore(SELF, 3, 100)
    for (let i = 0; i < 5; i++) await ds.put(record(`c${i}`, 'p'), time)
    expect(await stored(ds)).toEqual([2, 3, 4].map((i) => record(`c${i}`, 'p').toString()))
    expect(ds.providerRecords).toBe(3)
  })

  it('keeps at most total records of all other providers, evicting the oldest among equal holders', async () => {
    const ds = new ProviderBoundedDatastore(SELF, 10, 4)
    for (let i = 0; i < 6; i++) await ds.put(record('c', `p${i}`), time)
    expect(ds.providersUnder(under('c'))).toEqual(['p2', 'p3', 'p4', 'p5'])
    expect((await stored(ds)).length).toBe(4)
  })

  it('when full, evicts from the provider holding the most records (review 117, F4)', async () => {
    const ds = new ProviderBoundedDatastore(SELF, 256, 1024)
    await ds.put(record('capability', 'honest'), time)
    // 64 flooders x 256 records: 16x the total bound
    for (let s = 0; s < 64; s++) for (let i = 0; i < 256; i++) await ds.put(record(`junk${s}-${i}`, `sybil${s}`), time)
    expect(ds.providersUnder(under('capability'))).toEqual(['honest'])
    expect(ds.providerRecords).toBe(1024)
  })

  it('refuses records whose key is not a sha2-256 multihash, whatever their size (review 117, F1)', async () => {
    const ds = new ProviderBoundedDatastore(SELF, 10, 100)
    const identity = providerKeyPrefix(new Uint8Array([0x00, 0x80, 0x08, ...new Uint8Array(1024).fill(7)]))
    const sha512 = providerKeyPrefix(new Uint8Array([0x13, 0x40, ...new Uint8Array(64).fill(7)]))
    for (const prefix of [identity, sha512, `${PROVIDER_KEY_PREFIX}not-base32!/`, `${PROVIDER_KEY_PREFIX}c/`])
      await ds.put(new Key(`${prefix}p`), time)
    await ds.put(record('capability', 'p'), time)
    expect(await stored(ds)).toEqual([record('capability', 'p').toString()])
    expect(ds.providerRecords).toBe(1)
  })

  it("counts neither the node's own records nor other keys, and never evicts them", async () => {
    const ds = new ProviderBoundedDatastore(SELF, 1, 2)
    for (let i = 0; i < 5; i++) await ds.put(record(`own${i}`, SELF), time)
    await ds.put(new Key('/peers/p0'), time)
    for (let i = 0; i < 5; i++) await ds.put(record(`c${i}`, `p${i}`), time)
    expect(ds.providerRecords).toBe(2)
    expect((await stored(ds)).filter((k) => k.endsWith(`/${SELF}`)).length).toBe(5)
    expect(await ds.has(new Key('/peers/p0'))).toBe(true)
  })

  it('a refreshed record becomes the newest, and a deleted one frees its place', async () => {
    const ds = new ProviderBoundedDatastore(SELF, 2, 100)
    await ds.put(record('a', 'p'), time)
    await ds.put(record('b', 'p'), time)
    await ds.put(record('a', 'p'), time) // re-provided: b is now the oldest
    await ds.put(record('c', 'p'), time)
    expect(ds.providersUnder(under('a'))).toEqual(['p'])
    expect(ds.providersUnder(under('b'))).toEqual([])
    await ds.delete(record('a', 'p'))
    await ds.put(record('d', 'p'), time)
    expect((await stored(ds)).sort()).toEqual([record('c', 'p'), record('d', 'p')].map(String).sort())
  })

  it("names a key's provider prefix as kad-dht does (base32 multihash, no multibase prefix)", () => {
    expect(providerKeyPrefix(new Uint8Array([0x12, 0x20]))).toBe(`${PROVIDER_KEY_PREFIX}ciqa/`)
  })
})

describe('pickProviders', () => {
  it('puts the preferred first, in their order, and cuts the shuffled rest at limit', () => {
    const all = ['s1', 's2', 'h1', 's3', 'h2']
    const picked = pickProviders(all, new Set(['h2', 'h1', 'absent']), 4, () => 0)
    expect(picked.slice(0, 2)).toEqual(['h2', 'h1'])
    expect(picked).toHaveLength(4)
    expect(['s1', 's2', 's3']).toContain(picked[2])
  })

  it('gives the preferred at most half of the slots (review 117, F3)', () => {
    const all = Array.from({ length: 20 }, (_, i) => `p${i}`)
    const prefer = new Set(all.slice(0, 17))
    const picked = pickProviders(all, prefer, 16, () => 0)
    expect(picked.slice(0, 8)).toEqual(all.slice(0, 8))
    expect(new Set(picked).size).toBe(16)
    // the other 8 are drawn at random from the 12 left, preferred or not
    expect(picked.slice(8).every((p) => all.slice(8).includes(p))).toBe(true)
  })

  it('orders the preferred connected ones first', () => {
    const ordered = connectedFirst(new Set(['a', 'b', 'c', 'd']), new Set(['c', 'x']))
    expect([...ordered]).toEqual(['c', 'a', 'b', 'd'])
  })

  it('draws the rest at random: another draw, another order', () => {
    const all = Array.from({ length: 10 }, (_, i) => `s${i}`)
    const first = pickProviders(all, new Set(), 10, () => 0)
    const last = pickProviders(all, new Set(), 10, () => 0.999)
    expect(new Set(first)).toEqual(new Set(all))
    expect(first).not.toEqual(last)
  })
})
