/**
 * The chk/note check of decision 0079 (Review 119, F1): a `chk` of a log this
 * node witnesses is taken when another peer relays it, not only when the log
 * publishes it here. So a log that cosigns root B at size 6 with W and shows
 * root A at size 6 to every peer but W is caught by W all the same, in either
 * order (the kept `chk` is what W looks up before it cosigns).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createCheckpoint,
  didFromPublicKey,
  encodeEnvelope,
  generateKeyPair,
  peerIdFromPublicKey,
  sha256,
  type KeyPair,
} from '../../node/core/index.js'
import { createLogKeyBinding, type LogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshGossip } from '../../node/services/mesh-gossip.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { toB64 } from '../../node/core/encoding.js'

interface Log {
  readonly key: KeyPair
  readonly log: KeyPair
  readonly did: string
  readonly binding: LogKeyBinding
}

function log(): Log {
  const key = generateKeyPair()
  const logKey = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const binding = createLogKeyBinding(did, logKey.publicKey, generateKeyPair().publicKey, Date.now(), key)
  return { key, log: logKey, did, binding }
}

const root = (n: number): Uint8Array => sha256(new Uint8Array([n, 119]))

function ask(w: MeshNode, l: Log, size: number, r: Uint8Array): number {
  const text = checkpointText(l.did, size, r)
  const body = addCheckpointBody(0, [], `${text}\n${signNoteText(text, l.did, l.log)}`)
  const frame = new TextEncoder().encode(JSON.stringify({ op: 'add-checkpoint', binding: l.binding, body }))
  return (w.witness.serve(frame, peerIdFromPublicKey(l.key.publicKey)) as { status: number }).status
}

function noteSplits(w: MeshNode, did: string): unknown[] {
  return w.store.auditEntries
    .entries(0, w.store.auditEntries.count())
    .map((row) => JSON.parse(row.entry) as { kind: string; subject: string | null; data: { note?: string } })
    .filter((e) => e.kind === 'checkpoint.inconsistent' && e.subject === did && e.data.note !== undefined)
}

describe('a relayed chk of a log this node witnesses', () => {
  let w: MeshNode
  beforeAll(async () => {
    w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  }, 240_000)
  afterAll(async () => {
    await stopAll([w])
  })

  it('control: the chk published by the log itself to W is compared with the note W cosigned (1 entry)', () => {
    const gossip = (w as unknown as { parts: { gossip: MeshGossip } }).parts.gossip
    const d = log()
    expect(ask(w, d, 6, root(1))).toBe(200)
    const chk = createCheckpoint(d.did, 6, root(2), Date.now(), d.key)
    const dPeer = peerIdFromPublicKey(d.key.publicKey)
    expect(gossip.validate('meshsig/v1/audit', encodeEnvelope(chk), dPeer, dPeer)).toBe('accept')
    expect(noteSplits(w, d.did)).toHaveLength(1)
  })

  it('a chk relayed by another peer (the log did not publish to W) is compared too (1 entry)', () => {
    const gossip = (w as unknown as { parts: { gossip: MeshGossip } }).parts.gossip
    const d = log()
    expect(ask(w, d, 6, root(3))).toBe(200) // W holds D: cosigned root 3 at size 6
    expect(w.store.misc.meta(`witness.state.${d.did}`)).toBeDefined()
    const chk = createCheckpoint(d.did, 6, root(4), Date.now(), d.key) // what D shows the mesh
    const dPeer = peerIdFromPublicKey(d.key.publicKey)
    const relay = peerIdFromPublicKey(generateKeyPair().publicKey) // an honest peer D did publish to
    gossip.validate('meshsig/v1/audit', encodeEnvelope(chk), relay, dPeer)
    expect(noteSplits(w, d.did)).toHaveLength(1)
  })

  it('the other order: a chk relayed to W before the log asks W to cosign another root of its size is kept for the pre-cosign check', () => {
    const gossip = (w as unknown as { parts: { gossip: MeshGossip } }).parts.gossip
    const d = log()
    expect(ask(w, d, 2, root(5))).toBe(200) // D is held here (witnessed)
    const dPeer = peerIdFromPublicKey(d.key.publicKey)
    const relay = peerIdFromPublicKey(generateKeyPair().publicKey)
    const chk = createCheckpoint(d.did, 6, root(6), Date.now(), d.key) // root 6 at size 6 shown to the mesh
    gossip.validate('meshsig/v1/audit', encodeEnvelope(chk), relay, dPeer)
    // chkClash (witness-service.ts) reads this before cosigning a note of root 7 at size 6
    expect(w.store.auditEntries.conflictingRemoteCheckpoint(d.did, 6, toB64(root(7)))).toBeDefined()
  })
})
