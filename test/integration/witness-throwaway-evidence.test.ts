/**
 * Throwaway logs against the "once per log" evidence rule (attack review 100,
 * findings 1 and 2; decision 0066, addendum). A log key costs nothing: a
 * fresh libp2p key, a DID derived from it and a log key bound to it. Each such
 * log sends the witness ONE evidence frame with a split view of its own log
 * (two notes it signed, one size, two roots).
 *
 * 1. Only logs the witness knows have their evidence recorded and relayed;
 *    others spend a small node-wide budget, so 300 fresh keys do not write 300
 *    audit entries and rows nor send 300 relays.
 * 2. Relays of a genuine split view reach the peer whatever the throwaway
 *    ones did: evidence frames have their own per-peer budget at the
 *    receiver (the relayer's add-checkpoint requests are still answered), and
 *    relays go through a per-peer queue under the stream limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair, peerIdFromPublicKey, sha256, type KeyPair } from '../../node/core/index.js'
import { bindingVerifiers, createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, parseNote, signNoteText } from '../../node/core/note.js'
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

function signed(r: Rogue, size: number, root: Uint8Array): string {
  const text = checkpointText(r.did, size, root)
  return `${text}\n${signNoteText(text, r.did, r.log)}`
}

const root = (n: number): Uint8Array => sha256(new Uint8Array([n & 255, (n >> 8) & 255, 9]))

function send(n: MeshNode, r: Rogue, request: Record<string, unknown>): { status: number; body?: string } {
  const bytes = new TextEncoder().encode(JSON.stringify({ binding: r.binding, ...request }))
  return n.witness.serve(bytes, r.peerId) as { status: number; body?: string }
}

/** A throwaway log's one frame: a split view of its own log at size 1. */
function selfSplitView(n: MeshNode): { status: number } {
  const r = rogue()
  return send(n, r, { op: 'evidence', origin: r.did, earlier: signed(r, 1, root(1)), later: signed(r, 1, root(2)) })
}

function inconsistentEntries(n: MeshNode): { subject: string | null; length: number }[] {
  return n.store.auditEntries
    .entries(0, n.store.auditEntries.count())
    .map((row) => ({ e: JSON.parse(row.entry) as { kind: string; subject: string | null }, length: row.entry.length }))
    .filter(({ e }) => e.kind === 'checkpoint.inconsistent')
    .map(({ e, length }) => ({ subject: e.subject, length }))
}

/** The first error a spied request failed with. */
let firstError: string | undefined

/** Wrap `n`'s libp2p requests on the witness protocol: count evidence frames sent and collect their answers. */
function spy(n: MeshNode): { relays: number; answers: Promise<number>[] } {
  const seen = { relays: 0, answers: [] as Promise<number>[] }
  const p2p = n.mesh
  const request = p2p.request.bind(p2p)
  p2p.request = (peerId: string, protocol: string, bytes: Uint8Array, ...rest: unknown[]) => {
    const p = (request as (...a: unknown[]) => Promise<Uint8Array>)(peerId, protocol, bytes, ...rest)
    const frame = JSON.parse(new TextDecoder().decode(bytes)) as { op?: string }
    if (protocol === WITNESS_PROTOCOL && frame.op === 'evidence') {
      seen.relays++
      seen.answers.push(
        p.then(
          (b) => (JSON.parse(new TextDecoder().decode(b)) as { status: number }).status,
          (err: Error) => {
            if (firstError === undefined) firstError = err.message
            return -1
          },
        ),
      )
    }
    return p
  }
  return seen
}

describe('throwaway logs each prove themselves dishonest once', () => {
  let w: MeshNode, peer: MeshNode
  let seen: { relays: number; answers: Promise<number>[] }

  beforeAll(async () => {
    w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
    peer = await startNode({ peers: [w.info().multiaddrs[0]!], init: { checkpointIntervalMs: 3_600_000 } })
    await waitFor(() => w.peers().length === 1 && peer.peers().length === 1, { timeout: 20_000 })
    seen = spy(w)
  }, 60_000)

  afterAll(async () => {
    await stopAll([w, peer])
  })

  it('300 fresh keys, one evidence frame each, do not grow the audit log, the metadata and the relays by 300', async () => {
    const entriesBefore = w.store.auditEntries.count()
    const t0 = Date.now()
    const statuses = Array.from({ length: 300 }, () => selfSplitView(w).status)
    const ms = Date.now() - t0
    expect(statuses.every((s) => s === 200)).toBe(true)
    const entries = inconsistentEntries(w)
    const bytes = entries.reduce((a, e) => a + e.length, 0)
    const proven = w.store.misc.countMeta('witness.proven.')
    const list = (w.store.misc.meta('witness.evidence') ?? '').length
    console.log(
      `[review100] 300 throwaway split views: ${entries.length} checkpoint.inconsistent entries (${bytes} bytes), ` +
        `${w.store.auditEntries.count() - entriesBefore} audit entries in all, ${proven} witness.proven rows, ` +
        `evidence list ${list} bytes, ${seen.relays} evidence frames sent to the peer, ${ms} ms`,
    )
    // a bound that does not grow with the number of fresh keys (as gossip refusals have, decision 0053)
    expect(entries.length).toBeLessThanOrEqual(100)
    expect(proven).toBeLessThanOrEqual(100)
    expect(seen.relays).toBeLessThanOrEqual(100)
    // the rest were checked and counted (meshsig_witness_evidence_unrecorded_total), not recorded
    expect(w.witness.unrecordedEvidence()).toBe(300 - entries.length)
  }, 120_000)
})

/** Two connected nodes, `w` spied on, and a log both witness (cosigned at size 7 on each). */
async function pair(): Promise<{
  w: MeshNode
  peer: MeshNode
  seen: { relays: number; answers: Promise<number>[] }
  log: Rogue
}> {
  const w = await startNode({ init: { checkpointIntervalMs: 3_600_000 } })
  const peer = await startNode({ peers: [w.info().multiaddrs[0]!], init: { checkpointIntervalMs: 3_600_000 } })
  await waitFor(() => w.peers().length === 1 && peer.peers().length === 1, { timeout: 20_000 })
  const seen = spy(w)
  const log = rogue()
  const first = addCheckpointBody(0, [], signed(log, 7, root(7000)))
  expect(send(w, log, { op: 'add-checkpoint', body: first }).status).toBe(200)
  expect(send(peer, log, { op: 'add-checkpoint', body: first }).status).toBe(200)
  return { w, peer, seen, log }
}

async function recordedBy(n: MeshNode, did: string): Promise<number> {
  try {
    await waitFor(() => inconsistentEntries(n).filter((e) => e.subject === did).length === 1, { timeout: 5_000 })
    return 1
  } catch {
    return 0
  }
}

function tally(statuses: number[]): string {
  const m = new Map<number, number>()
  for (const s of statuses) m.set(s, (m.get(s) ?? 0) + 1)
  return [...m].map(([s, n]) => `${n} x ${s === -1 ? 'failed' : s}`).join(', ')
}

describe("throwaway split views keep a genuine one from the witness's peers", () => {
  const nodes: MeshNode[] = []

  afterAll(async () => {
    await stopAll(nodes)
  })

  it('sent in one burst with the genuine one: the relay of the genuine split view still reaches the peer', async () => {
    const { w, peer, seen, log } = await pair()
    nodes.push(w, peer)
    // the equivocating log has 70 throwaway logs send their own split views, and shows its second root at once
    for (let i = 0; i < 70; i++) expect(selfSplitView(w).status).toBe(200)
    const second = addCheckpointBody(7, [], signed(log, 7, root(7001)))
    expect(send(w, log, { op: 'add-checkpoint', body: second }).status).toBe(422)
    expect(inconsistentEntries(w).filter((e) => e.subject === log.did)).toHaveLength(1)
    const answers = await Promise.all(seen.answers)
    console.log(
      `[review100] burst: relays answered ${tally(answers)}; the genuine one: ${answers.at(-1)} (${firstError})`,
    )
    const peerRecorded = await recordedBy(peer, log.did)
    console.log(`[review100] burst: the peer recorded the genuine split view: ${peerRecorded}`)
    expect(answers.at(-1)).toBe(200)
    expect(peerRecorded).toBe(1)
  }, 120_000)

  it('spread over a minute: the genuine split view still reaches the peer and the peer still cosigns', async () => {
    const { w, peer, seen, log } = await pair()
    nodes.push(w, peer)
    // 125 throwaway logs in batches of 25, each batch's relays answered before the next
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 25; i++) expect(selfSplitView(w).status).toBe(200)
      await Promise.all(seen.answers)
    }
    console.log(`[review100] spread: flood relays answered ${tally(await Promise.all(seen.answers))}`)
    const second = addCheckpointBody(7, [], signed(log, 7, root(7001)))
    expect(send(w, log, { op: 'add-checkpoint', body: second }).status).toBe(422)
    const genuine = await seen.answers.at(-1)
    const peerRecorded = await recordedBy(peer, log.did)
    // the witness's own checkpoint, asked of the peer
    const chk = await w.checkpoint()
    await w.witness.gather(chk)
    const peerName = bindingVerifiers(peer.witness.binding()).witness.name
    const hasPeerLine = parseNote(w.notes.note(chk)).signatures.some((s) => s.name === peerName)
    console.log(
      `[review100] spread: genuine relay answered ${genuine}, recorded by the peer: ${peerRecorded}, ` +
        `the peer cosigned the witness's next checkpoint: ${hasPeerLine}`,
    )
    expect(genuine).toBe(200)
    expect(peerRecorded).toBe(1)
    expect(hasPeerLine).toBe(true)
  }, 120_000)
})
