/**
 * Rogue peers against the cosignatures a log gathers and against the
 * witness's table of logs (docs/audit.md; attack review 97, decision 0066).
 *
 * - A note keeps at most one cosignature line per witness key. A rogue
 *   witness that answers the node's add-checkpoint last, with 16 valid
 *   cosignature lines of its own key, pushed the honest witness's line out
 *   of the node's note (GET /audit/checkpoint, exports), so an auditor who
 *   counts the honest witness's key failed the node, and sumdb/note refuses
 *   a note with two signatures of one known key.
 * - A witness counts a log once it has cosigned one of its checkpoints:
 *   1024 throwaway keys that send one frame each stored and counted 1024
 *   logs for good, and every new log was refused 403 "not signed by this
 *   peer". The table is bounded (`limits.witness.origins`): past it a new
 *   log gets 503 with its own message, until the log cosigned longest ago
 *   has been idle `limits.witness.idleOriginMs` and makes room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, peerIdFromPublicKey, sha256 } from '../../node/core/index.js'
import { bindingVerifiers, createLogKeyBinding } from '../../node/core/log-key-binding.js'
import {
  checkpointText,
  cosignCheckpoint,
  encodeVkey,
  parseNote,
  signNoteText,
  verifyNote,
} from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import { checkAuditNote } from '../../node/core/audit-note.js'
import { ensureLogKeys } from '../../node/identity/log-keys.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('one rogue witness against the honest cosignatures of a note', () => {
  let a: MeshNode, b: MeshNode, r: MeshNode
  const rHome = tempDir()

  beforeAll(async () => {
    a = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
    b = await startNode({ peers: [a.info().multiaddrs[0]!], init: { checkpointIntervalMs: 3_600_000 } })
    r = await startNode({
      home: rHome.dir,
      peers: [a.info().multiaddrs[0]!],
      init: { checkpointIntervalMs: 3_600_000 },
    })
    await waitFor(() => a.peers().length === 2, { timeout: 20_000 })
    // the rogue witness answers last (its first answer is a 409 naming size 0, so the log asks again),
    // with its honest line and 15 more valid cosignatures of its own key at other times
    const witnessKey = ensureLogKeys(rHome.dir).witness
    const name = bindingVerifiers(r.witness.binding()).witness.name
    const serve = r.witness.serve.bind(r.witness)
    let asked = 0
    r.witness.serve = (req: Uint8Array, from: string): unknown => {
      const wire = JSON.parse(new TextDecoder().decode(req)) as { op?: string; body?: string }
      if (wire.op === 'add-checkpoint' && asked++ % 2 === 0) return { status: 409, body: '0\n' }
      const answer = serve(req, from) as { status: number; body?: string; binding?: unknown }
      if (wire.op !== 'add-checkpoint' || answer.status !== 200) return answer
      const text = parseNote(wire.body!.slice(wire.body!.indexOf('\n\n') + 2)).text
      const now = Math.floor(Date.now() / 1000)
      const more = Array.from({ length: 15 }, (_, i) => cosignCheckpoint(text, name, witnessKey, now - 1 - i)).join('')
      return { ...answer, body: `${answer.body}${more}` }
    }
  }, 60_000)

  afterAll(async () => {
    await stopAll([a, b, r])
    rHome.cleanup()
  })

  it("keeps one line per witness key, and the honest witness's line stays in the note", async () => {
    const chk = await a.checkpoint()
    const honest = bindingVerifiers(b.witness.binding()).witness
    const rogue = bindingVerifiers(r.witness.binding()).witness
    const names = (): string[] => parseNote(a.notes.note(chk)).signatures.map((s) => s.name)
    // both witnesses answered, the rogue last
    await waitFor(() => names().includes(rogue.name) && names().includes(honest.name), { timeout: 15_000 })
    expect(names().filter((n) => n === rogue.name)).toHaveLength(1)
    expect(names().filter((n) => n === honest.name)).toHaveLength(1)
    // the newest of the rogue's lines is the one kept
    const [kept] = verifyNote(a.notes.note(chk), [rogue])
    expect(kept!.timestamp).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 60)
    // what an auditor runs with the honest witness's key: meshsig audit verify --witnesses 1 --witness-key <B>
    const view = a.auditorView(chk)
    expect(view.witnesses.map((x) => x.did).sort()).toEqual([b.did, r.did].sort())
    const check = checkAuditNote(
      { ...view, checkpoint: chk, nodePublicKey: a.info().didKey },
      { keys: [encodeVkey(honest)], quorum: 1 },
    )
    expect(check).toMatchObject({ ok: true })
    expect(verifyNote(a.notes.note(chk), [honest])).toHaveLength(1)
  }, 60_000)
})

describe("the witness's table of logs", () => {
  let w: MeshNode, honest: MeshNode
  let offset = 0

  beforeAll(async () => {
    w = await startNode({
      init: {
        checkpointIntervalMs: 3_600_000,
        clock: () => Date.now() + offset,
        limits: { witness: { idleOriginMs: 3_600_000 } },
      },
    })
    honest = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  }, 60_000)

  afterAll(async () => {
    await stopAll([w, honest])
  })

  /** A fresh log: its binding, and a frame it sends to `w`. */
  function throwaway(): { did: string; send: (request: Record<string, unknown>) => { status: number; body?: string } } {
    const key = generateKeyPair()
    const log = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, 1, key)
    return {
      did,
      send: (request) => {
        const frame = { binding, ...request }
        const text = checkpointText(did, 1, sha256(new Uint8Array([1])))
        const body = addCheckpointBody(0, [], `${text}\n${signNoteText(text, did, log)}`)
        const bytes = new TextEncoder().encode(JSON.stringify({ body, ...frame }))
        return w.witness.serve(bytes, peerIdFromPublicKey(key.publicKey)) as { status: number; body?: string }
      },
    }
  }

  const held = (): number => w.store.misc.countMeta('witness.state.')

  /** The honest log's first checkpoint, asked over libp2p as a log asks. */
  async function honestAsks(): Promise<{ status: number; body?: string }> {
    const chk = await honest.checkpoint()
    const body = addCheckpointBody(0, [], honest.notes.note(chk))
    const frame = new TextEncoder().encode(
      JSON.stringify({ op: 'add-checkpoint', binding: honest.witness.binding(), body }),
    )
    return w.witness.serve(frame, honest.info().peerId) as { status: number; body?: string }
  }

  it('1024 throwaway keys that send a frame each store nothing', () => {
    for (let i = 0; i < 1024; i++) expect(throwaway().send({ op: 'none' }).status).toBe(400)
    expect(held()).toBe(0)
    expect(w.store.misc.countMeta('witness.binding.')).toBe(0)
  })

  it('a full table refuses a new log with its own status and message until its oldest log is idle', async () => {
    // 1024 throwaway logs cosigned: the table is full
    const first = throwaway()
    expect(first.send({ op: 'add-checkpoint' }).status).toBe(200)
    offset += 1_000
    for (let i = 1; i < 1024; i++) expect(throwaway().send({ op: 'add-checkpoint' }).status).toBe(200)
    expect(held()).toBe(1024)
    const refused = await honestAsks()
    expect(refused).toMatchObject({
      status: 503,
      body:
        'this witness holds its 1024 logs (limits.witness.origins) and none was cosigned 3600 s ago or longer ' +
        '(limits.witness.idleOriginMs): it takes no new log now\n',
    })
    expect(held()).toBe(1024)
    expect(w.store.misc.meta(`witness.state.${honest.did}`)).toBeUndefined()
    // an hour after the first throwaway log was cosigned, it makes room, and it alone
    offset += 3_600_000 - 1_000
    expect((await honestAsks()).status).toBe(200)
    expect(held()).toBe(1024)
    expect(w.store.misc.meta(`witness.state.${first.did}`)).toBeUndefined()
    expect(w.store.misc.meta(`witness.state.${honest.did}`)).toBeDefined()
  }, 120_000)
})
