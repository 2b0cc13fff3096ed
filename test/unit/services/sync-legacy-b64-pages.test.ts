/**
 * An item stored before decision 0073 (an icp whose `next` is in a second base64 spelling) in the first page of
 * an honest holder's registry (review 109): the holder serves it as stored and a node that pages through the
 * registry skips it. When the holder left it out instead, its page came back one frame short, the new node read
 * that as the last page and, holding less than a quarter of the registry, paged from the start again every round
 * (127 of 600 agents after 6 rounds).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createInception, generateKeyPair } from '../../../node/core/index.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'
import { plantLegacyAgent } from '../../helpers/legacy-b64.js'
import { syncNode, type SyncNode } from '../../helpers/sync-node.js'

const AGENTS = 600 // 1200 items: more than 4 pages of 256

describe("a legacy item early in an honest holder's registry", () => {
  let net: FakeNetwork
  let clock: FixedClock
  let a: SyncNode
  let b: SyncNode
  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
    a = syncNode(net, clock, 'old honest a')
    b = syncNode(net, clock, 'new node b')
    const dids: string[] = []
    for (let i = 0; i < AGENTS; i++) {
      const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: `ag${i}` })
      dids.push(ag.icp.did)
      for (const e of [ag.icp, ag.reg])
        expect(a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    }
    dids.sort()
    // mallory's legacy icp, with a DID that sorts in the first page of a's registry
    // grinding a DID that sorts first is cheap; here: before the 50th agent's
    let key = generateKeyPair(a.kit.random)
    let icp = createInception(key, clock.ms, generateKeyPair(a.kit.random))
    while (!(icp.did < dids[50]!)) {
      key = generateKeyPair(a.kit.random)
      icp = createInception(key, clock.ms, generateKeyPair(a.kit.random))
    }
    plantLegacyAgent(a.kit, icp, key, 'mallory')
    net.connect(a.p2p, b.p2p)
  })
  afterEach(() => {
    a.kit.close()
    b.kit.close()
  })

  it('a new node catches up with the honest holder in a few rounds', async () => {
    const caught: number[] = []
    for (let i = 0; i < 6; i++) {
      await b.sync.client.round(a.kit.peerId)
      clock.ms += 3_700_000
      caught.push(b.kit.store.agents.list().filter((ag) => ag.name.startsWith('ag')).length)
    }
    expect(caught.at(-1)).toBe(AGENTS)
  }, 120_000)
})
