/**
 * A `chk` and a cosigned note of one log at one size with two roots (attack
 * review 113, M1; decision 0079; docs/audit.md, "A `chk` and a note"). A
 * dishonest log signs root R as a `chk` under its identity key (gossiped to
 * the mesh) and root R' as a C2SP note under the log key its identity key
 * bound (sent to witnesses, shown to auditors). A witness that holds the
 * `chk` refuses to cosign the note (422) and records the split view once;
 * one that cosigned the note records it when the `chk` arrives. The same
 * root at the same size is no conflict: the note is cosigned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createCheckpoint,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  peerIdFromPublicKey,
  sha256,
  type KeyPair,
} from '../../node/core/index.js'
import { createLogKeyBinding, type LogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { Ingest } from '../../node/services/ingest.js'
import { startNode, stopAll } from '../helpers/mesh.js'

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

const root = (n: number): Uint8Array => sha256(new Uint8Array([n, 79]))

/** Ask `w` to cosign the log's note of `size` and `r` (from size 0), as the log over libp2p. */
function ask(w: MeshNode, l: Log, size: number, r: Uint8Array): number {
  const text = checkpointText(l.did, size, r)
  const body = addCheckpointBody(0, [], `${text}\n${signNoteText(text, l.did, l.log)}`)
  const frame = new TextEncoder().encode(JSON.stringify({ op: 'add-checkpoint', binding: l.binding, body }))
  return (w.witness.serve(frame, peerIdFromPublicKey(l.key.publicKey)) as { status: number }).status
}

/** The `checkpoint.inconsistent` entries against `did` that pair a `chk` with a note. */
function noteSplits(w: MeshNode, did: string): { envelopeId: string | null; data: { note?: string } }[] {
  return w.store.auditEntries
    .entries(0, w.store.auditEntries.count())
    .map(
      (row) =>
        JSON.parse(row.entry) as {
          kind: string
          subject: string | null
          envelopeId: string | null
          data: { note?: string }
        },
    )
    .filter((e) => e.kind === 'checkpoint.inconsistent' && e.subject === did && e.data.note !== undefined)
}

describe('a chk and a cosigned note with two roots at one size', () => {
  let w: MeshNode
  beforeAll(async () => {
    w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  }, 60_000)
  afterAll(async () => {
    await stopAll([w])
  })

  it('a witness that holds the chk refuses the note (422) and records the split view once', () => {
    const l = log()
    // what the gossip ingest keeps of the log's chk (ingest.ts keepCheckpoint): the mesh's view at size 5
    const chk = createCheckpoint(l.did, 5, root(1), Date.now(), l.key)
    w.store.auditEntries.addRemoteCheckpoint(envelopeId(chk), chk, JSON.stringify(chk), Date.now(), 256)
    expect(ask(w, l, 5, root(2))).toBe(422)
    expect(ask(w, l, 5, root(2))).toBe(422) // asked again: still refused, not recorded twice
    const entries = noteSplits(w, l.did)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.envelopeId).toBe(envelopeId(chk))
    expect(w.store.misc.meta(`witness.state.${l.did}`)).toBeUndefined() // nothing cosigned, nothing held
  })

  it('a note with the root of the chk of its size is cosigned', () => {
    const l = log()
    const chk = createCheckpoint(l.did, 5, root(3), Date.now(), l.key)
    w.store.auditEntries.addRemoteCheckpoint(envelopeId(chk), chk, JSON.stringify(chk), Date.now(), 256)
    expect(ask(w, l, 5, root(3))).toBe(200)
    expect(noteSplits(w, l.did)).toHaveLength(0)
  })

  it('a chk that arrives after the witness cosigned a note of its size with another root is recorded once', () => {
    const ingest = (w as unknown as { parts: { ingest: Ingest } }).parts.ingest
    const l = log()
    expect(ask(w, l, 6, root(4))).toBe(200)
    const gossip = { kind: 'gossip' as const, peer: peerIdFromPublicKey(l.key.publicKey) }
    const first = createCheckpoint(l.did, 6, root(5), Date.now(), l.key)
    expect(ingest.ingest(first, gossip, { fresh: true }).ok).toBe(true)
    const second = createCheckpoint(l.did, 6, root(6), Date.now(), l.key)
    expect(ingest.ingest(second, gossip, { fresh: true }).ok).toBe(true)
    const entries = noteSplits(w, l.did)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.envelopeId).toBe(envelopeId(first))
    // the chk of the same root as the cosigned note is no split view
    const other = log()
    expect(ask(w, other, 6, root(7))).toBe(200)
    const same = createCheckpoint(other.did, 6, root(7), Date.now(), other.key)
    expect(ingest.ingest(same, gossip, { fresh: true }).ok).toBe(true)
    expect(noteSplits(w, other.did)).toHaveLength(0)
  })
})
