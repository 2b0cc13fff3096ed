// Review 123 (decision 0085 addendum): a held log made "partial" by an unsigned event that skips a seq (KEL_INVALID: no verify, charged to
// nobody), then a registration with a garbage signature, makes the node release and STORE the bare inception
// (waitsForLog: "the registration waits for sync"), with no registration, charging nobody. The empty-inception
// rule (docs/protocol.md §9) is bypassed: stored empty DIDs are then served by sync to other nodes, which hold them
// for the serving (honest) peer and charge it the leftovers at the round's end.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeId,
  toB64,
  type Envelope,
  type KeyEvent,
} from '../../../node/core/index.js'
import { kitAgent, type KitNode } from '../../helpers/service-kit.js'
import { heldPoolKit, type HeldPoolKit } from './held-pool-kit.js'

let n: KitNode
afterEach(() => n.close())

function setup(): HeldPoolKit {
  const kit = heldPoolKit()
  n = kit.n
  return kit
}

/** Junk: a "rotation" at seq 2 (skips seq 1) with random signatures: KEL_INVALID before any signature is checked. */
function skipping(icp: KeyEvent): Envelope {
  const raw = {
    ...{ v: 1, type: 'rot', did: icp.did, seq: 2, prev: envelopeId(icp), key: toB64(randomBytes(32)), next: null },
    ...{ ts: n.clock.ms, sig: toB64(randomBytes(64)), sig2: toB64(randomBytes(64)) },
  }
  return decodeEnvelope(encodeEnvelope(raw as unknown as Envelope))
}

/** `reg` with a random signature. */
function garbled(reg: Envelope): Envelope {
  return decodeEnvelope(encodeEnvelope({ ...reg, sig: toB64(randomBytes(64)) } as Envelope))
}

describe('a held log made partial by junk', () => {
  it('does not make the node store empty inceptions charged to nobody', async () => {
    const { store, admission, apply, forgedOf } = setup()
    const K = 64
    const agents = Array.from({ length: K }, () => kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'x' }))
    await apply(
      'rogue',
      agents.flatMap((a) => [a.icp, skipping(a.icp), garbled(a.reg)]),
    )
    const stored = agents.filter((a) => store.keyEvents.state(a.did) !== undefined).length
    const registered = agents.filter((a) => store.agents.get(a.did) !== undefined).length
    // either refused (nothing stored) or charged to the rogue that sent the junk
    expect(registered).toBe(0)
    expect(admission.size()).toBe(0) // nothing left held for the rogue either
    expect(stored === 0 || forgedOf('rogue') >= K).toBe(true)
  })
})
