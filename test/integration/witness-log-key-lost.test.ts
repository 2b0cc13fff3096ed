/**
 * A node whose `log.key` was lost (attack review 100, finding 5; decision
 * 0066, addendum). `ensureLogKeys` makes a new one when the file is missing,
 * and every witness that held the log refused it 403 for good: the held row
 * was forgotten only to make room in a full table. Now a held row idle for
 * `limits.witness.idleOriginMs` is forgotten when another log key of its DID
 * comes, and the new key is taken. Here idleOriginMs is 1 h and the log comes
 * back with its new key 2 h later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, peerIdFromPublicKey, sha256 } from '../../node/core/index.js'
import { createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

describe('a log whose log key file was lost', () => {
  let w: MeshNode
  let offset = 0
  const HOUR = 3_600_000

  beforeAll(async () => {
    w = await startNode({
      init: {
        checkpointIntervalMs: 3_600_000,
        clock: () => Date.now() + offset,
        limits: { witness: { idleOriginMs: HOUR } },
      },
    })
  }, 60_000)

  afterAll(async () => {
    await stopAll([w])
  })

  it('is witnessed again once its old row has been idle idleOriginMs (the table is far from full)', () => {
    const identity = generateKeyPair()
    const did = didFromPublicKey(identity.publicKey)
    const peerId = peerIdFromPublicKey(identity.publicKey)
    const ask = (
      log: ReturnType<typeof generateKeyPair>,
      old: number,
      size: number,
    ): { status: number; body?: string } => {
      const binding = createLogKeyBinding(
        did,
        log.publicKey,
        generateKeyPair().publicKey,
        Date.now() + offset,
        identity,
      )
      const text = checkpointText(did, size, sha256(new Uint8Array([size])))
      const body = addCheckpointBody(old, [], `${text}\n${signNoteText(text, did, log)}`)
      const bytes = new TextEncoder().encode(JSON.stringify({ op: 'add-checkpoint', binding, body }))
      return w.witness.serve(bytes, peerId) as { status: number; body?: string }
    }
    const before = generateKeyPair()
    expect(ask(before, 0, 3).status).toBe(200)
    // the home is restored without log.key: the node starts with a new one, same DID, same identity key
    const after = generateKeyPair()
    offset += 2 * HOUR
    const answers = [ask(after, 3, 3), ask(after, 0, 3)]
    offset += 7 * 24 * HOUR
    answers.push(ask(after, 3, 3), ask(after, 0, 3))
    console.log(
      `[review100] held logs: ${w.store.misc.countMeta('witness.state.')}; answers to the log with its new key ` +
        `(2 h, then 7 days later): ${answers.map((a) => a.status).join(', ')} — ${answers[0]!.body}`,
    )
    expect(answers.some((a) => a.status === 200 || a.status === 409)).toBe(true)
  })
})
