/**
 * Security review (rogue sync peer): a rotation served out of order is refused KEL_INVALID before any
 * signature check, and sync remembers that refusal by short id for every peer (RefusedIds.remember keeps
 * only forgery codes per peer). A rogue peer that serves a DID's rotation n+1 while the node still stands at
 * seq n-1 makes the node refuse, for good (until restart), the genuine event from every honest peer: the node
 * stays on a rotated-out key, refuses the DID's real messages as forgeries and charges the honest peers that
 * relay them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeEnvelope, type Envelope } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P, SyncRequest } from '../../node/p2p/index.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

let honest: MeshNode
let victim: MeshNode
let rogue: MeshP2P
let did = ''
let rot2: Envelope

/** A registry that claims many items (the victim pages) and pages out only `served`. */
function* lyingRegistry(request: SyncRequest, served: () => Uint8Array[]): Generator<Uint8Array> {
  if (request.kind === 'fp') {
    const n = request.prefixes.length * (request.children === true ? 16 : 1)
    for (let i = 0; i < n; i++) yield Uint8Array.of(0, 0, 3, 0xe8, ...crypto.getRandomValues(new Uint8Array(16)))
    return
  }
  if (request.kind === 'page' && request.after === undefined) yield* served()
}

function auditCodes(node: MeshNode, subject: string): string[] {
  return node.store.auditEntries
    .entries(0, node.store.auditEntries.count())
    .map((r) => JSON.parse(r.entry) as { kind: string; subject: string | null; code: string | null })
    .filter((e) => e.kind === 'envelope.rejected' && e.subject === subject)
    .map((e) => e.code ?? '')
}

beforeAll(async () => {
  honest = await startNode({ name: 'honest' })
  const alice = await honest.registerAgent('alice', [{ type: 'chat' }])
  did = alice.identity.did
  // the victim knew alice before it went offline: her inception and first registration
  victim = await startNode({ name: 'victim' })
  for (const e of alice.envelopes) expect((await victim.submitEnvelope(e)).ok).toBe(true)
  // meanwhile alice rotates twice on her node
  await honest.rotateAgent({ did, authority: OPERATOR })
  rot2 = (await honest.rotateAgent({ did, authority: OPERATOR })).envelope
  expect(honest.store.keyEvents.state(did)?.seq).toBe(2)
}, 60_000)

afterAll(async () => {
  await rogue?.stop().catch(() => undefined)
  await stopAll([honest, victim])
})

describe('a rogue sync peer serving a later rotation before the one it follows', () => {
  it('cannot keep the victim from taking the genuine rotation from an honest peer', async () => {
    rogue = await rogueP2P('skip-poison', { syncProvider: (r) => lyingRegistry(r, () => [encodeEnvelope(rot2)]) })
    await rogue.start()
    await rogue.dial(victim.info().multiaddrs[0]!)
    // the victim pages the rogue's registry and refuses seq 2 (it stands at seq 0): KEL_INVALID
    await waitFor(() => auditCodes(victim, did).includes('KEL_INVALID'), { timeout: 20_000, message: 'rot2 refused' })
    await rogue.stop()

    // the victim now meets the honest node, which holds alice's whole log
    await victim.connectPeer(honest.info().multiaddrs[0]!)
    // (before the fix it stopped at seq 1; it may now take rot1 and rot2 in one pass)
    await waitFor(() => (victim.store.keyEvents.state(did)?.seq ?? 0) >= 1, { timeout: 20_000, message: 'rot1 taken' })
    await victim.syncFrom(honest.mesh.peerId)
    await new Promise((r) => setTimeout(r, 6_000))
    await victim.syncFrom(honest.mesh.peerId)

    // alice speaks with her current key (seq 2's)
    const sent = await honest.sendMessage({ authority: OPERATOR, fromDid: did, toDid: null, message: 'hello mesh' })
    await new Promise((r) => setTimeout(r, 5_000))

    const state = victim.store.keyEvents.state(did)
    console.log('victim state of alice: seq', state?.seq, '(honest:', honest.store.keyEvents.state(did)?.seq, ')')
    console.log('victim audit refusals for alice:', auditCodes(victim, did))
    console.log('victim stored alice message:', victim.store.messages.exists(sent.id))
    console.log(
      'honest peer charged by victim:',
      victim.store.misc.peerFaults().find((f) => f.peer === honest.mesh.peerId),
    )
    expect.soft(state?.seq, 'victim converges on alice’s key log').toBe(2)
    expect.soft(state?.key).toBe(honest.store.keyEvents.state(did)?.key)
    expect.soft(victim.store.messages.exists(sent.id), 'alice’s genuine message accepted').toBe(true)
    expect.soft(victim.store.misc.peerFaults().find((f) => f.peer === honest.mesh.peerId)?.forged ?? 0).toBe(0)
  }, 90_000)
})
