// Registry sync carries registry items only (docs/protocol.md §9). Found by the attack review of stop 32:
// a peer that listed and served checkpoints (or messages) of throwaway keys made the node store and audit
// thousands of them in one round, past the gossip checkpoint gate and the relay quotas. Now such an answer
// is the peer's fault: nothing of it is stored and the peer is penalised.
import { expect, it } from 'vitest'
import {
  createCheckpoint,
  createMessage,
  didFromPublicKey,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  type Envelope,
} from '../../../node/core/index.js'
import { answerSync, encodeFingerprint } from '../../../node/services/sync.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'
import { syncNode } from '../../helpers/sync-node.js'

it.each(['chk', 'msg'])('a peer serving %s envelopes in a sync round is at fault; none is stored', async (kind) => {
  const net = new FakeNetwork()
  const clock = new FixedClock()
  const evil = syncNode(net, clock, 'evil')
  const victim = syncNode(net, clock, 'victim')
  net.connect(evil.p2p, victim.p2p)
  const ag = kitAgent(victim.kit.random, clock.ms, { controller: victim.kit.did, peerId: victim.kit.peerId })
  for (const e of [ag.icp, ag.reg])
    expect(victim.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
  const junk: Envelope[] = Array.from({ length: 300 }, (_, i) => {
    const k = generateKeyPair()
    const did = didFromPublicKey(k.publicKey)
    return kind === 'chk'
      ? createCheckpoint(did, 1_000 + i, new Uint8Array(32).fill(i & 255), clock.ms, k)
      : createMessage(
          { from: did, to: null, body: `junk ${i}`, ts: clock.ms, nonce: new Uint8Array(16).fill(i & 255) },
          k,
        )
  })
  const byShort = new Map(junk.map((e) => [envelopeId(e).slice(0, 16), e]))
  evil.p2p.syncProvider = (request) => {
    if (request.kind === 'self') return [...answerSync(evil.sync.index, request)]
    if (request.kind === 'fp') {
      return request.prefixes.map(() => encodeFingerprint({ count: 3, fp: new Uint8Array(16).fill(9) }))
    }
    if (request.kind === 'ids') return junk.map((e) => new Uint8Array(Buffer.from(envelopeId(e).slice(0, 16), 'hex')))
    if (request.kind === 'items') return request.ids.map((s) => encodeEnvelope(byShort.get(s)!))
    if (request.kind === 'page') return junk.slice(0, request.limit).map((e) => encodeEnvelope(e))
    return []
  }
  await victim.sync.client.round(evil.kit.peerId)
  expect(victim.kit.store.auditEntries.remoteCheckpoints()).toEqual([])
  expect(victim.kit.store.messages.total()).toBe(0)
  expect(victim.p2p.penalties.length).toBeGreaterThan(0)
})
