/**
 * Review 106 M1 (decision 0073): an icp whose `next` is in a second base64
 * spelling was taken before the canonical-base64 rule (its signer made it;
 * any DID owner can). An honest node that stored it served it by sync as it
 * is, and a node that lacked it refused the whole answer as a protocol fault:
 * it penalised the honest server and never caught up (0 of 20 agents after 3
 * rounds). Now a receiver skips such an item (counted as rejected, not
 * forged), up to `BAD_ITEMS_LIMIT` in one answer, whoever serves it
 * (docs/protocol.md §9).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { utf8 } from '../../../node/core/encoding.js'
import { createInception, encodeEnvelope, generateKeyPair, type IcpEnvelope } from '../../../node/core/index.js'
import { BAD_ITEMS_LIMIT } from '../../../node/services/sync-client.js'
import { answerSync } from '../../../node/services/sync.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'
import { plantLegacyAgent } from '../../helpers/legacy-b64.js'
import { syncNode, type SyncNode } from '../../helpers/sync-node.js'

describe('an item stored before decision 0073 with a second base64 spelling', () => {
  let net: FakeNetwork
  let clock: FixedClock
  let a: SyncNode
  let b: SyncNode
  let odd: IcpEnvelope
  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
    a = syncNode(net, clock, 'old honest a')
    b = syncNode(net, clock, 'new node b')
    for (let i = 0; i < 20; i++) {
      const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: `ag${i}` })
      for (const e of [ag.icp, ag.reg])
        expect(a.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    }
    // mallory's icp with a respelt commitment, taken by a while it ran the version before decision 0073
    const key = generateKeyPair(a.kit.random)
    odd = plantLegacyAgent(a.kit, createInception(key, clock.ms, generateKeyPair(a.kit.random)), key, 'mallory')
    net.connect(a.p2p, b.p2p)
  })
  afterEach(() => {
    a.kit.close()
    b.kit.close()
  })

  /** b (new, or restored) runs 3 rounds against a, an hour apart: what it caught up and what it charged a. */
  async function catchUp(): Promise<{ agents: number; faults: number; penalties: number }> {
    for (let i = 0; i < 3; i++) {
      await b.sync.client.round(a.kit.peerId)
      clock.ms += 3_700_000
    }
    const faults = b.kit.store.misc.peerFaults().filter((f) => f.peer === a.kit.peerId)
    return {
      agents: b.kit.store.agents.list().filter((ag) => ag.name.startsWith('ag')).length,
      faults: faults.reduce((n, f) => n + f.forged, 0),
      penalties: b.p2p.penalties.length,
    }
  }

  it('served by the honest node that stored it, is skipped: none of its registry is hidden, nobody charged', async () => {
    expect(await catchUp()).toEqual({ agents: 20, faults: 0, penalties: 0 })
  })

  it('served by a node without that change, is skipped: the server is no protocol fault', async () => {
    // a runs decision 0073 before this fix: it serves the stored text with every page
    a.p2p.syncProvider = (request) => {
      const out = [...answerSync(a.sync.index, request)]
      return request.kind === 'page' ? [encodeEnvelope(odd), ...out] : out
    }
    expect(await catchUp()).toEqual({ agents: 20, faults: 0, penalties: 0 })
  })

  it(`more than ${BAD_ITEMS_LIMIT} such items in one answer are a protocol fault`, async () => {
    const junk = Array.from({ length: BAD_ITEMS_LIMIT + 1 }, (_, i) => utf8(JSON.stringify({ type: 'icp', i })))
    a.p2p.syncProvider = (request) =>
      request.kind === 'page' ? [...junk, ...answerSync(a.sync.index, request)] : [...answerSync(a.sync.index, request)]
    expect((await catchUp()).penalties).toBeGreaterThan(0)
  })
})
