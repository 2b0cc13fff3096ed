/**
 * One node's ingest and held pool, as the held-pool suites use them
 * (decision 0085): `apply` is what `peer` serves the node by sync, `forgedOf`
 * the forgeries charged to a peer.
 */
import { Ingest } from '../../../node/services/ingest.js'
import { Admission, type AdmissionLimits } from '../../../node/services/sync-admission.js'
import { applyItems, RefusedIds, type ApplyCounts } from '../../../node/services/sync.js'
import {
  applyKeyEvent,
  createRegistration,
  createRotation,
  generateKeyPair,
  type Envelope,
  type KeyEvent,
  type KeyPair,
  type KeyState,
} from '../../../node/core/index.js'
import { kitAgent, kitNode, type KitNode } from '../../helpers/service-kit.js'

/** The pool, its node and its helpers. */
export interface HeldPoolKit {
  readonly n: KitNode
  readonly store: KitNode['store']
  readonly ingest: Ingest
  readonly admission: Admission
  readonly refused: RefusedIds
  apply(peer: string, items: readonly Envelope[]): Promise<ApplyCounts>
  forgedOf(peer: string): number
}

/** Zero counts of one sync application. */
export const noCounts = (): ApplyCounts => ({ accepted: 0, duplicates: 0, rejected: 0, forged: 0, held: 0 })

/** A fresh node with a held pool of `limits` (the defaults when none); close it with `kit.n.close()`. */
export function heldPoolKit(limits?: AdmissionLimits): HeldPoolKit {
  const n = kitNode()
  const { store, audit, events, clock } = n
  const ingest = new Ingest({ store, audit, events, clock: clock.now, maxSkewMs: 300_000, nodeDid: () => n.did })
  const admission = new Admission({
    index: { isAnchored: () => false, hasLog: (d) => store.keyEvents.state(d) !== undefined },
    ...(limits ? { limits } : {}),
  })
  const refused = new RefusedIds()
  return {
    n,
    store,
    ingest,
    admission,
    refused,
    async apply(peer, items) {
      const c = noCounts()
      await applyItems({ store, ingest, admission }, items, { id: peer, key: undefined }, c, refused)
      return c
    },
    forgedOf: (peer) => store.misc.peerFaults().find((f) => f.peer === peer)?.forged ?? 0,
  }
}

/** An agent of `n` whose log has `rotations` rotations after its inception, and its registration under its last key. */
export function rotatedAgent(n: KitNode, rotations: number): { did: string; log: KeyEvent[]; reg: Envelope } {
  const a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'h' })
  let state: KeyState = applyKeyEvent(undefined, a.icp)
  let key: KeyPair = a.key
  const log: KeyEvent[] = [a.icp]
  for (let i = 0; i < rotations; i++) {
    const next = i === 0 ? a.next : generateKeyPair(n.random)
    const rot = createRotation(state, key, next, n.clock.ms)
    state = applyKeyEvent(state, rot)
    key = next
    log.push(rot)
  }
  const init = { did: a.did, name: 'agent', capabilities: [], controller: n.did, peerId: 'h', ts: n.clock.ms }
  return { did: a.did, log, reg: createRegistration(init, key) }
}
