// Registry reconciliation (node/services/sync*.ts, docs/protocol.md §9) between two in-memory
// nodes on the fake mesh: a fresh node and a node missing a little both converge to the same
// fingerprint, a converged round is one exchange, and a peer answering garbage or past the
// limits of a request is charged (penalty, fault count, backoff), while an unreachable one is not.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRotation,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  type Envelope,
} from '../../../node/core/index.js'
import { orderKey } from '../../../node/core/registry-reconcile.js'
import type { SyncRequest } from '../../../node/p2p/index.js'
import { encodeFingerprint, type SyncResult } from '../../../node/services/sync.js'
import {
  BAD_ITEMS_LIMIT,
  DEFAULT_SYNC_BUDGET,
  FIRST_BACKOFF_MS,
  type SyncBudget,
} from '../../../node/services/sync-client.js'
import { FORGERY_WINDOW_MS } from '../../../node/services/sync-round.js'
import { FakeNetwork, type FakeSyncProvider } from '../../helpers/fake-p2p.js'
import { syncNode as syncNodeOn, type SyncNode } from '../../helpers/sync-node.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'

let net: FakeNetwork
let clock: FixedClock
let a: SyncNode
let b: SyncNode

/** A node on this test's mesh and clock. */
function syncNode(seed: string, budget?: SyncBudget, peerMemory?: number): SyncNode {
  return syncNodeOn(net, clock, seed, { ...(budget ? { budget } : {}), ...(peerMemory ? { peerMemory } : {}) })
}

/** `count` agents of node `n`, accepted by `n` and by every node in `alsoOn`; returns their envelopes. */
function agents(n: SyncNode, count: number, alsoOn: SyncNode[] = []): Envelope[] {
  const out: Envelope[] = []
  for (let i = 0; i < count; i++) {
    const ag = kitAgent(n.kit.random, clock.ms, { controller: n.kit.did, peerId: n.kit.peerId, name: `agent-${i}` })
    for (const target of [n, ...alsoOn]) {
      for (const e of [ag.icp, ag.reg])
        expect(target.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    }
    out.push(ag.icp, ag.reg)
  }
  return out
}

const kinds = (requests: { request: SyncRequest }[]): string[] => [...new Set(requests.map((r) => r.request.kind))]

beforeEach(() => {
  net = new FakeNetwork()
  clock = new FixedClock()
  a = syncNode('node a')
  b = syncNode('node b')
  net.connect(a.p2p, b.p2p)
})
afterEach(() => {
  a.kit.close()
  b.kit.close()
})

describe('reconciliation between two in-memory nodes', () => {
  it('brings a fresh node to the same registry by pages, and a second round is one fingerprint exchange', async () => {
    agents(a, 2)
    const first = await b.sync.client.round(a.kit.peerId)
    expect(first).toMatchObject({ accepted: 5, rejected: 0 }) // a's own inception (asked with `self`) and two agents
    expect(kinds(b.p2p.syncsSent)).toEqual(['self', 'fp', 'page'])
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
    expect(
      b.kit.store.agents
        .list()
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      a.kit.store.agents
        .list()
        .map((r) => r.name)
        .sort(),
    )
    const sent = b.p2p.syncsSent.length
    expect(await b.sync.client.round(a.kit.peerId)).toMatchObject({ accepted: 0, duplicates: 0 })
    expect(b.p2p.syncsSent.slice(sent).map((s) => s.request)).toEqual([{ kind: 'fp', prefixes: [''] }])
  })

  it('fetches only what a node misses by descending where fingerprints differ', async () => {
    agents(a, 2, [b])
    agents(a, 1)
    const result = await b.sync.client.round(a.kit.peerId)
    expect(result).toMatchObject({ accepted: 3, rejected: 0 }) // a's own inception and the agent b lacked
    expect(kinds(b.p2p.syncsSent)).not.toContain('page')
    expect(kinds(b.p2p.syncsSent)).toContain('items')
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
  })

  it('takes the one item a node lacks by the id the fingerprints name, without listing ids', async () => {
    agents(a, 3, [b])
    const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'rotating' })
    for (const n of [a, b])
      for (const e of [ag.icp, ag.reg]) n.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    expect(await b.sync.client.round(a.kit.peerId)).toMatchObject({ rejected: 0 }) // a's own log comes first
    const rot = createRotation(a.kit.store.keyEvents.state(ag.did)!, ag.key, ag.next, clock.ms)
    expect(a.kit.ingest.ingest(rot, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const sent = b.p2p.syncsSent.length
    expect(await b.sync.client.round(a.kit.peerId)).toMatchObject({ accepted: 1, rejected: 0 })
    expect(b.p2p.syncsSent.slice(sent).map((r) => r.request)).toEqual([
      { kind: 'fp', prefixes: [''] },
      { kind: 'items', ids: [envelopeId(rot).slice(0, 16)] },
    ])
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
  })

  it('descends instead of paging on once a whole page brought only what the node holds', async () => {
    // b holds the first agents in application order (another peer paged them first) and less than a quarter of a's
    const all = agents(a, 700)
    const pairs = Array.from({ length: 700 }, (_, i) => all.slice(2 * i, 2 * i + 2))
    const key = (pair: Envelope[]): string => orderKey({ did: (pair[1] as { did: string }).did, type: 'reg', seq: 0 })
    for (const pair of pairs.sort((x, y) => (key(x) < key(y) ? -1 : 1)).slice(0, 150))
      for (const e of pair) expect(b.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const result = await b.sync.client.round(a.kit.peerId)
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
    // one page of what it held, then only what it lacked: paging on brought every other held item again too
    expect(result).toMatchObject({ accepted: 1101, duplicates: 256, rejected: 0 })
    expect(kinds(b.p2p.syncsSent)).toEqual(expect.arrayContaining(['page', 'ids', 'items']))
  })

  it('compares the children of a prefix too full for one id list where a guess named nothing the peer serves', async () => {
    // found by review: a holds one item more than b overall, b holds an agent a lacks, so the root's guess is wrong;
    // listing the root instead answers 4,096 of about 6,000 ids, and what b lacks was never fetched, round after round
    const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'shared' })
    for (const n of [a, b])
      for (const e of [ag.icp, ag.reg]) n.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    for (const e of a.kit.store.keyEvents.log(a.kit.did)) b.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    for (const e of b.kit.store.keyEvents.log(b.kit.did)) a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    agents(a, 3_000, [b])
    const z = kitAgent(b.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'only on b' })
    for (const e of [z.icp, z.reg]) expect(b.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    // y and a rotation only on a, among ids a's first list answer for the root does not reach
    const listed = new Set(a.sync.index.idsUnder('', 4096 + 64).map((id) => id.slice(0, 3)))
    const unlisted = (e: Envelope): boolean => !listed.has(envelopeId(e).slice(0, 3))
    const onlyA = () => kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'y' })
    let y = onlyA()
    while (!unlisted(y.icp) || !unlisted(y.reg)) y = onlyA()
    const rotate = () =>
      createRotation(a.kit.store.keyEvents.state(ag.did)!, ag.key, ag.next, clock.ms + 1, generateKeyPair())
    let rot = rotate()
    while (!unlisted(rot)) rot = rotate()
    for (const e of [y.icp, y.reg, rot])
      expect(a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    expect(a.sync.index.fingerprint('').count).toBe(b.sync.index.fingerprint('').count + 1)

    expect(await b.sync.client.round(a.kit.peerId)).toMatchObject({ accepted: 3, rejected: 0 })
    expect(b.kit.store.agents.get(y.did)).toBeDefined()
    expect(b.kit.store.keyEvents.log(ag.did)).toHaveLength(2)
  }, 60_000)

  it('runs passes until a fresh node holds everything, in one round, each pass within the item budget', async () => {
    const small = syncNode('node with a small item budget', { ...DEFAULT_SYNC_BUDGET, items: 3 })
    net.connect(a.p2p, small.p2p)
    agents(a, 4)
    const result = await small.sync.client.round(a.kit.peerId)
    expect(result).toMatchObject({ accepted: 9, rejected: 0 })
    expect(result!.passes).toBeGreaterThanOrEqual(3)
    expect(small.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
    small.kit.close()
  })

  it('gives nodes that host no agents the same root, each holding the other’s own key log', async () => {
    await b.sync.client.round(a.kit.peerId)
    await a.sync.client.round(b.kit.peerId)
    expect(a.sync.index.fingerprint('')).toEqual(b.sync.index.fingerprint(''))
    expect(b.kit.store.keyEvents.state(a.kit.did)).toBeDefined()
    expect(a.kit.store.keyEvents.state(b.kit.did)).toBeDefined()
    const sent = b.p2p.syncsSent.length
    await b.sync.client.round(a.kit.peerId)
    expect(b.p2p.syncsSent.slice(sent).map((r) => r.request)).toEqual([{ kind: 'fp', prefixes: [''] }])
  })

  it('converges both ways when each node holds agents the other lacks', async () => {
    agents(a, 1)
    agents(b, 2)
    await b.sync.client.round(a.kit.peerId)
    await a.sync.client.round(b.kit.peerId)
    expect(a.sync.index.fingerprint('')).toEqual(b.sync.index.fingerprint(''))
    expect(a.kit.store.agents.count()).toBe(3)
  })
})

describe('the served index', () => {
  it('keeps its pages in application order as items arrive and registrations are replaced', () => {
    const orderOf = (i: { order: string }): string => i.order
    agents(a, 3)
    expect(a.sync.index.page(undefined, 2)).toHaveLength(2) // the order is built here
    const more = agents(a, 3)
    const renewed = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'renewed' })
    for (const e of [renewed.icp, renewed.reg]) a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    clock.advance(1000)
    const again = createRegistration(
      {
        did: renewed.did,
        name: 'renewed again',
        capabilities: [],
        controller: a.kit.did,
        peerId: a.kit.peerId,
        ts: clock.ms,
      },
      renewed.key,
    )
    expect(a.kit.ingest.ingest(again, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const all = a.sync.index.page(undefined, 1e6)
    expect(all.map(orderOf)).toEqual([...all.map(orderOf)].sort())
    expect(all).toHaveLength(a.sync.index.fingerprint('').count)
    const ids = all.map((i) => i.id)
    for (const e of more) expect(ids).toContain(envelopeId(e))
    expect(ids).toContain(envelopeId(again))
    expect(ids).not.toContain(envelopeId(renewed.reg))
    const cursor = all[3]!.order
    expect(a.sync.index.page(cursor, 2).map((i) => i.id)).toEqual(ids.slice(4, 6))
  })
})

describe('the budget of a round', () => {
  it('ends a round whose honest answer passes the bytes left in the budget, without charging the peer', async () => {
    const small = syncNode('node with a small budget', { ...DEFAULT_SYNC_BUDGET, bytes: 600 })
    net.connect(a.p2p, small.p2p)
    agents(a, 2)
    const result = await small.sync.client.round(a.kit.peerId)
    expect(result?.accepted).toBe(1) // a's own inception (`self`); no page of agents fits in 600 bytes
    expect(small.kit.store.agents.count()).toBe(0)
    expect(small.p2p.penalties).toEqual([])
    expect(small.kit.store.misc.peerFaults()).toEqual([])
    expect(small.errors).toEqual([])
    expect(small.sync.client.isBanned(a.kit.peerId)).toBe(false)
    small.kit.close()
  })
})

describe('a peer that breaks the protocol', () => {
  /** Make `a` answer through `provider` instead of its index. */
  function serveWith(provider: FakeSyncProvider): void {
    a.p2p.syncProvider = provider
  }

  function expectCharged(result: SyncResult | undefined): void {
    expect(result).toBeDefined()
    expect(b.p2p.penalties).toEqual([{ peerId: a.kit.peerId, penalty: 100 }])
    expect(b.kit.store.misc.peerFaults()).toEqual([{ peer: a.kit.peerId, forged: 1, accepted: 0 }])
    expect(b.sync.client.isBanned(a.kit.peerId)).toBe(true)
  }

  it('is charged for garbage frames, then left alone for its backoff', async () => {
    serveWith(() => [new TextEncoder().encode('garbage')])
    expectCharged(await b.sync.client.round(a.kit.peerId))
    net.connect(a.p2p, b.p2p)
    const sent = b.p2p.syncsSent.length
    expect(await b.sync.client.round(a.kit.peerId)).toBeUndefined()
    expect(b.p2p.syncsSent).toHaveLength(sent)
    clock.advance(FIRST_BACKOFF_MS + 1)
    expect(b.sync.client.isBanned(a.kit.peerId)).toBe(false)
  })

  it('is charged for an answer over the limits of its request', async () => {
    const fp = new Uint8Array(4)
    serveWith((request) => (request.kind === 'fp' ? [fp, fp] : []))
    expectCharged(await b.sync.client.round(a.kit.peerId))
  })

  it('is charged for serving an item that was not asked for, which is not applied', async () => {
    agents(a, 2, [b])
    agents(a, 1) // b misses this one, so it asks for items
    const c = syncNode('node c')
    const stranger = agents(c, 1)
    c.kit.close()
    const honest = a.p2p.syncProvider
    serveWith((request, from) =>
      request.kind === 'items' ? stranger.map((e) => encodeEnvelope(e)) : honest(request, from),
    )
    expectCharged(await b.sync.client.round(a.kit.peerId))
    for (const e of stranger) expect(b.sync.index.has(envelopeId(e))).toBe(false)
  })

  it('is charged for a page of inceptions no registration anchors, and none of them is stored', async () => {
    const junk = Array.from({ length: BAD_ITEMS_LIMIT + 8 }, () =>
      createInception(generateKeyPair(a.kit.random), clock.ms),
    )
    junk.sort((x, y) => (orderKey(x) < orderKey(y) ? -1 : 1))
    serveWith((request) => {
      if (request.kind === 'fp') return [encodeFingerprint({ count: junk.length, fp: new Uint8Array(16).fill(1) })]
      return request.kind === 'page' ? junk.map((e) => encodeEnvelope(e)) : []
    })
    const result = await b.sync.client.round(a.kit.peerId)
    expect(result).toMatchObject({ accepted: 0, held: junk.length })
    expect(b.kit.store.keyEvents.allDids()).toEqual([b.kit.did])
    expect(b.p2p.penalties).toEqual([{ peerId: a.kit.peerId, penalty: 100 }])
    expect(b.kit.store.misc.peerFaults()[0]?.forged).toBe(junk.length + 1)
  })

  /** Forged registrations of `count` fresh DIDs (each signed by a key that is not its DID's), in page order. */
  function forgeries(count: number): Envelope[] {
    const junk = Array.from({ length: count }, () => {
      const did = createInception(generateKeyPair(a.kit.random), clock.ms).did
      const init = { did, name: 'junk', capabilities: [], controller: a.kit.did, peerId: a.kit.peerId, ts: clock.ms }
      return createRegistration(init, generateKeyPair(a.kit.random))
    })
    return junk.sort((x, y) => (x.did < y.did ? -1 : 1))
  }

  /** Serve `junk` as a registry that differs from b's at the root, paged at once. */
  function serveJunk(junk: Envelope[]): void {
    serveWith((request) => {
      if (request.kind === 'fp') return [encodeFingerprint({ count: junk.length, fp: new Uint8Array(16).fill(7) })]
      return request.kind === 'page' ? junk.map((e) => encodeEnvelope(e)) : []
    })
  }

  it('counts forgeries over its rounds within the window: a few each round do not keep it uncharged (0069)', async () => {
    const few = Math.floor(BAD_ITEMS_LIMIT / 2) + 1
    serveJunk(forgeries(few))
    await b.sync.client.round(a.kit.peerId)
    expect(b.p2p.penalties).toEqual([]) // under the limit
    serveJunk(forgeries(few)) // a new connection, fresh items
    await b.sync.client.round(a.kit.peerId)
    expect(b.p2p.penalties).toEqual([{ peerId: a.kit.peerId, penalty: 100 }])
    expect(b.sync.client.isBanned(a.kit.peerId)).toBe(true)
  })

  it('starts the count afresh after the window', async () => {
    const few = Math.floor(BAD_ITEMS_LIMIT / 2) + 1
    serveJunk(forgeries(few))
    await b.sync.client.round(a.kit.peerId)
    clock.advance(FORGERY_WINDOW_MS)
    serveJunk(forgeries(few))
    await b.sync.client.round(a.kit.peerId)
    expect(b.p2p.penalties).toEqual([])
    expect(b.kit.store.misc.peerFaults()[0]?.forged).toBe(2 * few)
  })

  it('is not charged when it cannot be reached: the failure is reported instead', async () => {
    net.disconnect(a.kit.peerId, b.kit.peerId)
    await b.sync.client.round(a.kit.peerId)
    expect(b.p2p.penalties).toEqual([])
    expect(b.kit.store.misc.peerFaults()).toEqual([])
    expect(b.errors).toEqual([expect.objectContaining({ code: 'UNREACHABLE' })])
  })
})

describe('what the client remembers per peer', () => {
  // peer ids cost nothing to mint: a rogue charged under many of them must not grow the client's memory
  const peers = ['peer-1', 'peer-2', 'peer-3']

  it('keeps the backoffs of at most its bound of peers, forgetting the oldest', () => {
    const small = syncNode('node with a small memory', undefined, 2)
    for (const p of peers) small.sync.client.charge(p)
    expect(peers.map((p) => small.sync.client.isBanned(p))).toEqual([false, true, true])
    expect(
      small.kit.store.misc
        .peerFaults()
        .map((f) => f.peer)
        .sort(),
    ).toEqual(peers) // the faults stay on record
    small.kit.close()
  })

  it('forgets expired backoffs before a live one', () => {
    const small = syncNode('node with a small memory', undefined, 2)
    small.sync.client.charge('peer-1')
    clock.advance(FIRST_BACKOFF_MS + 1)
    small.sync.client.charge('peer-2')
    small.sync.client.charge('peer-3')
    expect(peers.map((p) => small.sync.client.isBanned(p))).toEqual([false, true, true])
    clock.advance(FIRST_BACKOFF_MS + 1)
    small.sync.client.charge('peer-1') // a new first offence: the expired ban was forgotten, so no doubled backoff
    clock.advance(FIRST_BACKOFF_MS + 1)
    expect(small.sync.client.isBanned('peer-1')).toBe(false)
    small.kit.close()
  })
})
