/**
 * A rogue log against the witness protocol (`/meshsig/witness/1.0.0`,
 * docs/audit.md "Split views, rewrites and evidence"; attack review 97,
 * decision 0066). The rogue is a log of its own: a fresh key and a log key
 * bound to its DID, so every note it signs verifies.
 *
 * - One proof of equivocation is enough: however many split views it mints
 *   (two roots for size 1, for size 2, …, by evidence frames or by
 *   add-checkpoint), the witness records one `checkpoint.inconsistent`
 *   entry against it and relays one evidence frame. (It recorded, listed
 *   and relayed every one: 200 entries, 1.5 MB, 200 relays.)
 * - Evidence always fits an audit entry: notes padded with lines of unknown
 *   keys (signed-note ignores them) are kept as the log signed them. (The
 *   entry was too large: nothing recorded, and the answer was a throw.)
 * - A log key held for an origin is never replaced, and a split view under
 *   the log key one node holds reaches a peer that holds another key of the
 *   same DID. (The peer checked it under its own key only and refused it.)
 * - A repeat of the cosigned checkpoint gets the cosignature given, nothing
 *   signed or written, and each peer has a budget of frames (120 a minute).
 *   (Each repeat signed and wrote twice, without a budget.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, peerIdFromPublicKey, sha256, type KeyPair } from '../../node/core/index.js'
import { createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { WITNESS_PROTOCOL } from '../../node/services/witness-service.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

interface Rogue {
  readonly key: KeyPair
  readonly log: KeyPair
  readonly did: string
  readonly peerId: string
  readonly binding: ReturnType<typeof createLogKeyBinding>
}

function rogue(): Rogue {
  const key = generateKeyPair()
  const log = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, Date.now(), key)
  return { key, log, did, peerId: peerIdFromPublicKey(key.publicKey), binding }
}

/** The same rogue DID with a second log key, bound by a later binding its identity key signed. */
function withSecondLogKey(r: Rogue): Rogue {
  const log = generateKeyPair()
  const binding = createLogKeyBinding(r.did, log.publicKey, generateKeyPair().publicKey, Date.now() + 1, r.key)
  return { ...r, log, binding }
}

/** The rogue's note of `size` with `root` as its log signed it. */
function signed(r: Rogue, size: number, root: Uint8Array): string {
  const text = checkpointText(r.did, size, root)
  return `${text}\n${signNoteText(text, r.did, r.log)}`
}

/** The same note padded with `junk` lines of unknown keys (about 270 bytes each). */
function padded(note: string, junk: number): string {
  return (
    note +
    Array.from({ length: junk }, (_, i) => `— junk${i} ${Buffer.alloc(200, i + 1).toString('base64')}\n`).join('')
  )
}

const root = (n: number): Uint8Array => sha256(new Uint8Array([n & 255, n >> 8, 7]))

/** `n`'s answer to the frame `request` from the rogue, as its status and body. */
function send(n: MeshNode, r: Rogue, request: Record<string, unknown>): { status: number; body?: string } {
  const bytes = new TextEncoder().encode(JSON.stringify({ binding: r.binding, ...request }))
  return n.witness.serve(bytes, r.peerId) as { status: number; body?: string }
}

/** `checkpoint.inconsistent` entries about `did` in `n`'s whole log, and their JSON lengths. */
function inconsistent(n: MeshNode, did: string): number[] {
  return n.store.auditEntries
    .entries(0, n.store.auditEntries.count())
    .filter((row) => {
      const e = JSON.parse(row.entry) as { kind: string; subject: string | null }
      return e.kind === 'checkpoint.inconsistent' && e.subject === did
    })
    .map((row) => row.entry.length)
}

describe('a rogue log against the witness protocol', () => {
  let w: MeshNode, peer: MeshNode
  /** Evidence frames `w` sent, by the origin they are about. */
  const relayed = new Map<string, number>()

  beforeAll(async () => {
    w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
    peer = await startNode({ peers: [w.info().multiaddrs[0]!], init: { checkpointIntervalMs: 3_600_000 } })
    await waitFor(() => w.peers().length === 1 && peer.peers().length === 1, { timeout: 20_000 })
    const p2p = w.mesh
    const request = p2p.request.bind(p2p)
    p2p.request = (peerId: string, protocol: string, bytes: Uint8Array, ...rest: unknown[]) => {
      const frame = JSON.parse(new TextDecoder().decode(bytes)) as { op?: string; origin?: string }
      if (protocol === WITNESS_PROTOCOL && frame.op === 'evidence') {
        relayed.set(frame.origin!, (relayed.get(frame.origin!) ?? 0) + 1)
      }
      return (request as (...a: unknown[]) => Promise<Uint8Array>)(peerId, protocol, bytes, ...rest)
    }
  }, 60_000)

  afterAll(async () => {
    await stopAll([w, peer])
  })

  it('a log that mints split views without end is recorded and relayed once', async () => {
    const r = rogue()
    const statuses: number[] = []
    // 60 split views by evidence frames (the per-peer evidence budget), each note padded past what an audit entry may hold
    for (let size = 1; size <= 60; size++) {
      const earlier = padded(signed(r, size, root(2 * size)), 40)
      const later = padded(signed(r, size, root(2 * size + 1)), 40)
      statuses.push(send(w, r, { op: 'evidence', origin: r.did, earlier, later }).status)
    }
    expect(statuses.every((s) => s === 200)).toBe(true) // each checks out; the first proves it
    // then by add-checkpoint: one cosigned size, ten new roots for it
    expect(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(0, [], signed(r, 500, root(500))) }).status).toBe(
      200,
    )
    for (let i = 1; i <= 10; i++) {
      const body = addCheckpointBody(500, [], signed(r, 500, root(500 + i)))
      expect(send(w, r, { op: 'add-checkpoint', body }).status).toBe(422)
    }
    const entries = inconsistent(w, r.did)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toBeLessThan(2_000) // the two notes as the log signed them
    expect(w.witness.evidence().filter((e) => e.origin === r.did)).toHaveLength(1)
    expect(w.trust.agent(r.did).failures).toBe(1)
    expect(relayed.get(r.did)).toBe(1)
  }, 60_000)

  it('a log that pads its cosigned note cannot keep its split view from being recorded', () => {
    const r = rogue()
    // the witness cosigns the log's checkpoint of size 5, in a note carrying 40 lines of unknown keys
    const first = signed(r, 5, root(1000))
    expect(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(0, [], padded(first, 40)) }).status).toBe(200)
    // then a second root for size 5: a split view, self-proving
    const second = signed(r, 5, root(1001))
    expect(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(5, [], padded(second, 40)) }).status).toBe(422)
    expect(w.witness.evidence().filter((e) => e.origin === r.did)).toMatchObject([
      { kind: 'split-view', earlier: first, later: second, reportedBy: w.did },
    ])
    expect(inconsistent(w, r.did)).toHaveLength(1)
    expect(w.trust.agent(r.did).failures).toBe(1)
  })

  it('a log key held for an origin is not replaced by a second binding of its DID', () => {
    const r = rogue()
    const cosigned = send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(0, [], signed(r, 7, root(3000))) })
    expect(cosigned.status).toBe(200)
    const held = w.store.misc.meta(`witness.state.${r.did}`)
    const r2 = withSecondLogKey(r)
    const switched = send(w, r2, { op: 'add-checkpoint', body: addCheckpointBody(7, [], signed(r2, 7, root(3001))) })
    expect(switched).toEqual({
      status: 403,
      body: `${r.did} is witnessed here under another log key: a log key is not replaced under the same identity key`,
    })
    expect(w.store.misc.meta(`witness.state.${r.did}`)).toBe(held)
    // the held key still works, and a repeat of what it cosigned gets the same line
    const again = send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(7, [], signed(r, 7, root(3000))) })
    expect(again).toMatchObject({ status: 200, body: cosigned.body })
  })

  it('a split view under one log key of a DID reaches a peer that holds another log key of it', async () => {
    const r = rogue()
    const r2 = withSecondLogKey(r)
    // the log shows the peer its second key, and the witness its first
    expect(
      send(peer, r2, { op: 'add-checkpoint', body: addCheckpointBody(0, [], signed(r2, 7, root(4000))) }).status,
    ).toBe(200)
    expect(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(0, [], signed(r, 7, root(4000))) }).status).toBe(
      200,
    )
    // then the witness a second root under the first key: recorded there, sent to the peer with that binding
    expect(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(7, [], signed(r, 7, root(4001))) }).status).toBe(
      422,
    )
    expect(inconsistent(w, r.did)).toHaveLength(1)
    // both log keys are bound by the DID's own key: the peer checks the evidence under the binding it carries
    await waitFor(() => inconsistent(peer, r.did).length === 1, { timeout: 15_000 })
    expect(peer.trust.agent(r.did).failures).toBe(1)
  }, 30_000)

  it('a repeat of the cosigned checkpoint gets the cosignature given, nothing signed or written, within a budget', () => {
    const r = rogue()
    const cp = signed(r, 3, root(5000))
    const first = send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(0, [], cp) })
    expect(first.status).toBe(200)
    // count the witness key's signatures and the node's metadata writes
    const key = (w.witness as unknown as { c: { witnessKey: () => KeyPair } }).c.witnessKey()
    const sign = key.sign.bind(key)
    const setMeta = w.store.misc.setMetaValue.bind(w.store.misc)
    let signatures = 0
    let writes = 0
    ;(key as { sign: KeyPair['sign'] }).sign = (m: Uint8Array) => (signatures++, sign(m))
    w.store.misc.setMetaValue = (k: string, v: string) => (writes++, setMeta(k, v))
    const answers: { status: number; body?: string }[] = []
    try {
      for (let i = 0; i < 200; i++)
        answers.push(send(w, r, { op: 'add-checkpoint', body: addCheckpointBody(3, [], cp) }))
    } finally {
      ;(key as { sign: KeyPair['sign'] }).sign = sign
      w.store.misc.setMetaValue = setMeta
    }
    expect(signatures).toBe(0)
    expect(writes).toBe(0)
    // the peer's first frame and 119 repeats fit its 120 frames a minute; the other 81 are refused unread
    const ok = answers.filter((a) => a.status === 200)
    expect(ok).toHaveLength(119)
    expect(ok.every((a) => a.body === first.body)).toBe(true)
    expect(answers.filter((a) => a.status === 429)).toHaveLength(81)
    expect(answers.at(-1)?.body).toBe('RATE_LIMITED: witness budget of 120 frames per 60 s spent')
  })
})
