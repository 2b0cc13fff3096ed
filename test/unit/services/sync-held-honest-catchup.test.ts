// Review 123: honest catch-up by sync through the held pool (decision 0085): long logs, self and controller
// revocations, in application order, over rounds with the refused-ids filter. Every DID must end registered with
// the right key state (revoked!), and the serving peer charged nothing.
import { afterEach, describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createRegistration,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  type Envelope,
  type KeyPair,
  type KeyState,
} from '../../../node/core/index.js'
import { inApplicationOrder, SHORT_ID_HEX } from '../../../node/core/registry-reconcile.js'
import { applyItems } from '../../../node/services/sync.js'
import { watchIngest } from '../../../node/services/sync-index.js'
import { kitAgent, type KitAgent, type KitNode } from '../../helpers/service-kit.js'
import { heldPoolKit, noCounts } from './held-pool-kit.js'

let n: KitNode
afterEach(() => n.close())

function agentWithLog(controller: string, rotations: number, rev: 'self' | KeyPair | undefined) {
  const a: KitAgent = kitAgent(n.random, n.clock.ms, { controller, peerId: 'h' })
  let state: KeyState = applyKeyEvent(undefined, a.icp)
  let key: KeyPair = a.key
  const log: Envelope[] = [a.icp]
  for (let i = 0; i < rotations; i++) {
    const next = generateKeyPair(n.random)
    const rot = createRotation(state, key, i === 0 ? a.next : next, n.clock.ms)
    state = applyKeyEvent(state, rot)
    key = i === 0 ? a.next : next
    log.push(rot)
  }
  const reg = createRegistration(
    { did: a.did, name: 'agent', capabilities: [], controller, peerId: 'h', ts: n.clock.ms },
    key,
  )
  log.push(reg)
  if (rev !== undefined) log.push(createRevocation(state, rev === 'self' ? key : rev, 'gone', n.clock.ms))
  return { did: a.did, key: a.key, log }
}

describe('honest catch-up through the held pool', () => {
  it('ends with every DID registered and revoked as it should, charging nobody', async () => {
    const kit = heldPoolKit()
    n = kit.n
    const { store, ingest, admission, refused } = kit
    watchIngest(ingest, (e) => {
      if (e.type !== 'msg' && e.type !== 'chk') refused.advanced(e.did)
    }) // as sync-client.ts:89
    const c = agentWithLog(n.did, 0, undefined) // the controller agent
    const ck = c.key
    const agents = [
      agentWithLog(c.did, 20, 'self'),
      agentWithLog(c.did, 3, ck),
      agentWithLog(c.did, 17, ck),
      agentWithLog(c.did, 0, ck),
      agentWithLog(c.did, 16, 'self'),
    ]
    const all = inApplicationOrder([...c.log, ...agents.flatMap((a) => a.log)])
    let rounds = 0
    const want = () =>
      agents.every((a) => store.agents.get(a.did) !== undefined && store.keyEvents.state(a.did)?.revoked != null)
    while (rounds < 5 && !want()) {
      rounds++
      const items = all.filter((e) => !refused.has('honest', envelopeId(e).slice(0, SHORT_ID_HEX)))
      await applyItems({ store, ingest, admission }, items, { id: 'honest', key: undefined }, noCounts(), refused)
      admission.dropPeer('honest')
    }
    const forged = store.misc.peerFaults().find((f) => f.peer === 'honest')?.forged ?? 0
    expect(want()).toBe(true)
    expect(forged).toBe(0)
  })
})
