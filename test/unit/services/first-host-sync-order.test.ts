// Fifth attack review of decision 0045: a sync batch that fills the registry with an agent's own log must not drop
// its first host's log for good: the controller's held inception is released after the registration naming it.
import { afterEach, expect, it } from 'vitest'
import { createInception, envelopeId, generateKeyPair } from '../../../node/core/index.js'
import { SHORT_ID_HEX } from '../../../node/core/registry-reconcile.js'
import { Ingest } from '../../../node/services/ingest.js'
import { RegistryQuota } from '../../../node/services/registry-quota.js'
import { Admission } from '../../../node/services/sync-admission.js'
import { applyItems, RefusedIds } from '../../../node/services/sync.js'
import { kitAgent, kitNode, type KitNode } from '../../helpers/service-kit.js'

const MAX = 7
let n: KitNode
afterEach(() => n.close())

it('takes the log of an agent’s first host that the same sync batch brings, at the bound', async () => {
  n = kitNode()
  const { store, audit, events, clock } = n
  const quota = new RegistryQuota(
    MAX,
    () => store.agents.count(),
    clock.now,
    () => undefined,
    10_000,
    () => store.keyEvents.countLogsOfNonAgents(n.did),
  )
  const ingest = new Ingest({ store, audit, events, clock: clock.now, maxSkewMs: 300_000, nodeDid: () => n.did, quota })
  // MAX - 1 places taken by peer nodes' logs (honest: every node a node meets takes a place)
  for (let i = 1; i < MAX; i++) {
    expect(
      ingest.ingest(
        createInception(generateKeyPair(n.random), clock.ms),
        { kind: 'gossip', peer: 'p' },
        { fresh: true },
      ).ok,
    ).toBe(true)
  }
  // an honest agent A hosted by node H; a sync peer serves A's log, H's log and A's registration
  const host = createInception(generateKeyPair(n.random), clock.ms)
  const a = kitAgent(n.random, clock.ms, { controller: host.did, peerId: 'h' })
  const admission = new Admission({
    index: { isAnchored: () => false, hasLog: (d) => store.keyEvents.state(d) !== undefined },
  })
  const refused = new RefusedIds()
  const counts = { accepted: 0, duplicates: 0, rejected: 0, forged: 0, held: 0 }
  await applyItems(
    { store, ingest, admission },
    [a.icp, host, a.reg],
    { id: 'sync-peer', key: undefined },
    counts,
    refused,
  )

  expect(store.agents.get(a.did)?.controller).toBe(host.did) // A registered, H is its first host
  const hostShort = envelopeId(host).slice(0, SHORT_ID_HEX)
  // H's inception was refused REGISTRY_FULL just before A's registration made H a first host, and sync
  // remembers it: no later round fetches it from any peer, so H's rotations and revocations of A never verify
  expect(refused.has('any-peer', hostShort)).toBe(false)
  expect(store.keyEvents.state(host.did)).toBeDefined()
})
