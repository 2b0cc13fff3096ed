/**
 * The table of witnessed logs against throwaway logs that keep asking
 * (attack review 100, finding 4; decision 0066, addendum). A throwaway log
 * that sends one new checkpoint before its row turns idle is cosigned again,
 * so a full table of them never frees a row by age: another unknown log waits
 * (503) as long as the flood goes on (docs/audit.md says so now). A node the
 * witness knows (it stores an agent the node hosts and the node's own
 * inception) takes the room of a throwaway log at once; a throwaway log that
 * a fresh agent names as its controller (the agent's key signs that, not the
 * log's: attack review 113, decision 0079) still waits. Here the table holds 4 logs, idleOriginMs is 1 h and
 * the throwaway logs refresh every 50 min.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistration, didFromPublicKey, generateKeyPair, peerIdFromPublicKey } from '../../node/core/index.js'
import { createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { consistencyProof, hashLeaf, merkleRoot } from '../../node/core/merkle.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

describe('a full table of throwaway logs that keep asking', () => {
  let w: MeshNode, honest: MeshNode
  let offset = 0
  const HOUR = 3_600_000

  beforeAll(async () => {
    w = await startNode({
      init: {
        checkpointIntervalMs: 3_600_000,
        clock: () => Date.now() + offset,
        limits: { witness: { origins: 4, idleOriginMs: HOUR } },
      },
    })
    honest = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  }, 60_000)

  afterAll(async () => {
    await stopAll([w, honest])
  })

  const leaves = Array.from({ length: 64 }, (_, i) => hashLeaf(new Uint8Array([i])))

  /** A throwaway log; `ask(size)` sends its checkpoint of `size` leaves, consistent with the one before. */
  function throwaway(): { did: string; ask: (size: number) => number } {
    const key = generateKeyPair()
    const log = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, 1, key)
    let last = 0
    return {
      did,
      ask: (size) => {
        const text = checkpointText(did, size, merkleRoot(leaves, size))
        const proof = last === 0 ? [] : consistencyProof(last, size, leaves)
        const body = addCheckpointBody(last, proof, `${text}\n${signNoteText(text, did, log)}`)
        const bytes = new TextEncoder().encode(JSON.stringify({ op: 'add-checkpoint', binding, body }))
        const status = (w.witness.serve(bytes, peerIdFromPublicKey(key.publicKey)) as { status: number }).status
        if (status === 200) last = size
        return status
      },
    }
  }

  async function honestAsks(): Promise<number> {
    const chk = await honest.checkpoint()
    const body = addCheckpointBody(0, [], honest.notes.note(chk))
    const frame = new TextEncoder().encode(
      JSON.stringify({ op: 'add-checkpoint', binding: honest.witness.binding(), body }),
    )
    return (w.witness.serve(frame, honest.info().peerId) as { status: number }).status
  }

  it("a known node's new log takes the room of a throwaway log that keeps asking; another throwaway log waits", async () => {
    const flood = Array.from({ length: 4 }, () => throwaway())
    for (const t of flood) expect(t.ask(1)).toBe(200)
    let size = 1
    // three rounds of 50 minutes: each throwaway log sends one new checkpoint per round, so none is ever idle
    for (let i = 0; i < 3; i++) {
      offset += 50 * 60_000
      size++
      for (const t of flood) expect(t.ask(size)).toBe(200)
    }
    // a log of a node w does not know waits, as the flood keeps every row in use
    expect(throwaway().ask(1)).toBe(503)
    // nor is a log known by a fresh agent naming it as controller: the agent's key signed that, not the log's
    const named = throwaway()
    const front = generateKeyPair()
    const reg = createRegistration(
      {
        ...{ did: didFromPublicKey(front.publicKey), name: 'front', capabilities: [], controller: named.did },
        ...{ peerId: peerIdFromPublicKey(front.publicKey), ts: Date.now() + offset },
      },
      front,
    )
    await w.submitEnvelope(reg)
    expect(w.store.agents.controls(named.did)).toBe(true)
    expect(named.ask(1)).toBe(503)
    // the honest node hosts an agent w stores, and w holds its inception (as the mesh delivers it, decision
    // 0036): w knows it, and its log takes the room of a throwaway one
    const agent = await honest.registerAgent('known-host')
    for (const env of [...honest.store.keyEvents.log(honest.did), ...agent.envelopes]) await w.submitEnvelope(env)
    expect(w.store.agents.controls(honest.did)).toBe(true)
    expect(w.store.keyEvents.state(honest.did)).toBeDefined()
    const answer = await honestAsks()
    expect(answer).toBe(200)
    expect(w.store.misc.countMeta('witness.state.')).toBe(4)
  }, 120_000)
})
