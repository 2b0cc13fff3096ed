/**
 * Throwaway witnesses against the rows a log keeps for them (attack review
 * 100, finding 3; decision 0066, addendum). A node asks every connected peer
 * to cosign each checkpoint; it keeps `cosigner.<PeerId>` and
 * `witness.binding.<DID>` only for a witness whose line it kept, each at most
 * `limits.witness.origins` rows. Fresh peer ids connected at each checkpoint
 * (16 new ones per checkpoint, the p2p layer stubbed) no longer grow them
 * without bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, peerIdFromPublicKey, type KeyPair } from '../../node/core/index.js'
import { createLogKeyBinding, witnessName } from '../../node/core/log-key-binding.js'
import { cosignCheckpoint, parseNote } from '../../node/core/note.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { WITNESS_PROTOCOL } from '../../node/services/witness-service.js'
import { startNode, stopAll } from '../helpers/mesh.js'

interface FakeWitness {
  readonly peerId: string
  readonly witness: KeyPair
  readonly did: string
  readonly binding: ReturnType<typeof createLogKeyBinding>
}

function fakeWitness(): FakeWitness {
  const key = generateKeyPair()
  const witness = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const binding = createLogKeyBinding(did, generateKeyPair().publicKey, witness.publicKey, Date.now(), key)
  return { peerId: peerIdFromPublicKey(key.publicKey), witness, did, binding }
}

describe('throwaway witnesses leave rows a log never deletes', () => {
  let a: MeshNode
  let connected: FakeWitness[] = []

  beforeAll(async () => {
    a = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
    const p2p = a.mesh as unknown as {
      peers: () => { peerId: string }[]
      request: (peerId: string, protocol: string, bytes: Uint8Array) => Promise<Uint8Array>
    }
    p2p.peers = () => connected.map((w) => ({ peerId: w.peerId }))
    p2p.request = async (peerId, protocol, bytes) => {
      const w = connected.find((x) => x.peerId === peerId)
      if (w === undefined || protocol !== WITNESS_PROTOCOL) throw new Error('unreachable')
      const wire = JSON.parse(new TextDecoder().decode(bytes)) as { body: string }
      const text = parseNote(wire.body.slice(wire.body.indexOf('\n\n') + 2)).text
      const line = cosignCheckpoint(text, witnessName(w.did), w.witness, Math.floor(Date.now() / 1000))
      return new TextEncoder().encode(JSON.stringify({ status: 200, body: line, binding: w.binding }))
    }
  }, 60_000)

  afterAll(async () => {
    await stopAll([a])
  })

  it('the rows kept for witnesses do not grow with the number of fresh keys', async () => {
    const rounds = 70
    let kept = 0
    for (let r = 0; r < rounds; r++) {
      connected = Array.from({ length: 16 }, () => fakeWitness())
      const chk = await a.checkpoint()
      kept += await a.witness.gather(chk)
    }
    const bindings = a.store.misc.countMeta('witness.binding.')
    const cosigners = a.store.misc.countMeta('cosigner.')
    console.log(
      `[review100] ${rounds} checkpoints x 16 fresh witnesses: ${kept} cosignatures kept, ` +
        `${bindings} witness.binding rows, ${cosigners} cosigner rows`,
    )
    // before decision 0066 the bindings stopped at MAX_WITNESSED_ORIGINS (1,024)
    expect(bindings).toBeLessThanOrEqual(1024)
    expect(cosigners).toBeLessThanOrEqual(1024)
  }, 300_000)
})
