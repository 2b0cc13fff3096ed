/**
 * An honest node that took more than 32 (BAD_ITEMS_LIMIT) icps whose `next` is in a second base64 spelling
 * before decision 0073 (anyone can sign such icps for fresh DIDs of their own and gossip them to a node on the
 * old version) serves them as stored. A page or fetch answer holding more than 32 of them was a PeerFault at
 * the receiver (review 111): every upgraded node charged the honest holder and never caught up from it. An item
 * that is an envelope once its base64 is respelt is skipped however many come (docs/protocol.md §9).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createInception, generateKeyPair, type Envelope } from '../../../node/core/index.js'
import { BAD_ITEMS_LIMIT } from '../../../node/services/sync-client.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'
import { plantLegacyAgent } from '../../helpers/legacy-b64.js'
import { syncNode, type SyncNode } from '../../helpers/sync-node.js'

const AGENTS = 20
const LEGACY = BAD_ITEMS_LIMIT + 8 // 40 legacy icps held by the honest node (32 passed before the fix)

describe(`${LEGACY} items stored before decision 0073 on an honest holder`, () => {
  let net: FakeNetwork
  let clock: FixedClock
  let a: SyncNode
  let b: SyncNode
  const honest: Envelope[] = []
  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
    a = syncNode(net, clock, 'old honest a')
    b = syncNode(net, clock, 'new node b')
    for (let i = 0; i < AGENTS; i++) {
      const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: `ag${i}` })
      honest.push(ag.icp, ag.reg)
      for (const e of [ag.icp, ag.reg])
        expect(a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    }
    for (let i = 0; i < LEGACY; i++) {
      const key = generateKeyPair(a.kit.random)
      plantLegacyAgent(a.kit, createInception(key, clock.ms, generateKeyPair(a.kit.random)), key, `m${i}`)
    }
    net.connect(a.p2p, b.p2p)
  })
  afterEach(() => {
    honest.length = 0
    a.kit.close()
    b.kit.close()
  })

  async function catchUp(): Promise<{ agents: number; penalties: number; errors: number }> {
    for (let i = 0; i < 3; i++) {
      await b.sync.client.round(a.kit.peerId)
      clock.ms += 3_700_000
    }
    for (const e of b.errors) console.log(String(e).slice(0, 160))
    return {
      agents: b.kit.store.agents.list().filter((ag) => ag.name.startsWith('ag')).length,
      penalties: b.p2p.penalties.length,
      errors: b.errors.length,
    }
  }

  it('a new node catches up from the honest holder and does not charge it', async () => {
    const got = await catchUp()
    console.log('new node:', got, b.errors.map((e) => String(e)).slice(0, 2))
    expect({ agents: got.agents, penalties: got.penalties }).toEqual({ agents: AGENTS, penalties: 0 })
  })

  it('a node that already holds the honest agents (descent, fetch by id) does not charge the holder', async () => {
    // b holds every honest item of a already (it caught up from another peer): only the legacy ones differ
    for (const e of honest)
      expect(b.kit.ingest.ingest(e, { kind: 'gossip', peer: 'y' }, { fresh: false }).ok).toBe(true)
    const got = await catchUp()
    console.log('descent:', got)
    expect(got.penalties).toBe(0)
  })
})
