/**
 * Mesh peers as witnesses (issue 11, docs/audit.md): three nodes cosign each
 * other's checkpoints (C2SP tlog-witness over libp2p), so every checkpoint
 * note carries two cosignatures. A log made to sign a second root for a
 * cosigned size (the test hook: its own witness service asks its peers to
 * cosign a checkpoint with another root) is caught by both witnesses (the
 * spec's 422); each records the evidence once and gossips it; every node —
 * the log itself, both witnesses, and a fourth node that never spoke to the
 * log — checks both notes under the log's key and records it once, so the
 * log's trust drops by one failure on every node. Evidence that does not
 * check out (a note under another key, a binding the log's DID did not sign)
 * is refused and changes nothing. A checkpoint that rewrites history is
 * refused (422), a stale old size answered 409 with the latest size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  consistencyProof,
  fromB64,
  generateKeyPair,
  keyPairFromB64,
  peerIdFromPublicKey,
  sha256,
  toB64,
} from '../../node/core/index.js'
import { bindingVerifiers, createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, parseNote, signNoteText, verifyNote } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import { ensureLogKeys } from '../../node/identity/log-keys.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('three nodes witness each other', () => {
  let a: MeshNode, b: MeshNode, c: MeshNode, e: MeshNode
  let bApi: ApiFixture
  const home = tempDir()
  /** `to` answers the witness protocol request `request` as if `from` had sent it. */
  const ask = (to: MeshNode, from: MeshNode, request: Record<string, unknown>): number => {
    const req = new TextEncoder().encode(JSON.stringify({ binding: from.witness.binding(), ...request }))
    return (to.witness.serve(req, from.info().peerId) as { status: number }).status
  }

  beforeAll(async () => {
    a = await startNode({ home: home.dir, init: { checkpointIntervalMs: 3_600_000 } })
    bApi = await startApi({}, {}, { peers: [a.info().multiaddrs[0]!] })
    b = bApi.node
    c = await startNode({ peers: [a.info().multiaddrs[0]!, b.info().multiaddrs[0]!] })
    await waitFor(() => a.peers().length === 2 && b.peers().length === 2, { timeout: 20_000 })
    e = await startNode() // connected to nobody: it never spoke to A
  }, 60_000)

  afterAll(async () => {
    await bApi?.api.close()
    await stopAll([a, b, c, e])
    home.cleanup()
  })

  const witnesses = () => [bindingVerifiers(b.witness.binding()).witness, bindingVerifiers(c.witness.binding()).witness]

  async function cosigned(): Promise<string> {
    const chk = await a.checkpoint()
    let note = ''
    await waitFor(() => (note = a.notes.note(chk)).split('\n— ').length === 4, { timeout: 15_000 })
    return note
  }

  it('every checkpoint carries two cosignatures that verify under the witnesses keys', async () => {
    const log = bindingVerifiers(a.witness.binding()).log
    for (let round = 0; round < 2; round++) {
      await a.registerAgent(`agent-${round}`)
      const note = await cosigned()
      expect(verifyNote(note, [log])).toHaveLength(1)
      const cosigs = verifyNote(note, witnesses())
      expect(cosigs.map((s) => s.verifier.name).sort()).toEqual(
        witnesses()
          .map((w) => w.name)
          .sort(),
      )
      for (const s of cosigs) expect(s.timestamp).toBeGreaterThan(0)
    }
  }, 60_000)

  const forged = (size: number, root: Uint8Array, key = ensureLogKeys(home.dir).log): string => {
    const text = checkpointText(a.did, size, root)
    return `${text}\n${signNoteText(text, a.did, key)}`
  }
  const failures = (n: MeshNode): number => n.trust.agent(a.did).failures
  /** `checkpoint.inconsistent` entries about A in `n`'s whole log (the export stops at the last checkpoint). */
  const inconsistent = (n: MeshNode): number =>
    n.store.auditEntries
      .entries(0, n.store.auditEntries.count())
      .map((r) => JSON.parse(r.entry) as { kind: string; subject: string | null })
      .filter((x) => x.kind === 'checkpoint.inconsistent' && x.subject === a.did).length

  it('evidence that does not check out is refused and changes nothing', async () => {
    const chk = a.audit.latest()!
    const real = forged(chk.size, fromB64(chk.root, 'root', 32))
    const other = sha256(new Uint8Array([3]))
    const send = (evidence: Record<string, unknown>): number => ask(e, c, { op: 'evidence', ...evidence })
    const originBinding = a.witness.binding()
    // the second note is signed by a key that is not A's log key
    const wrongKey = { origin: a.did, originBinding, earlier: real, later: forged(chk.size, other, generateKeyPair()) }
    expect(send(wrongKey)).toBe(422)
    // A's binding replaced by one C's identity key signed for other log keys (the notes verify under them)
    const rogueLog = generateKeyPair()
    const fake = createLogKeyBinding(a.did, rogueLog.publicKey, generateKeyPair().publicKey, 1, generateKeyPair())
    const notes = {
      earlier: forged(chk.size, other, rogueLog),
      later: forged(chk.size, sha256(new Uint8Array([4])), rogueLog),
    }
    expect(send({ origin: a.did, originBinding: fake, ...notes })).toBe(422)
    // one root only: no split view
    expect(send({ origin: a.did, originBinding, earlier: real, later: real })).toBe(422)
    expect(e.witness.evidence()).toEqual([])
    expect(failures(e)).toBe(0)
    expect(inconsistent(e)).toBe(0)
  }, 30_000)

  it('a peer cannot bind log keys to another DID, nor with a key that DID rotated away from', async () => {
    const chk = a.audit.latest()!
    const before = b.store.misc.meta(`witness.binding.${a.did}`)
    // a rogue peer signs, with its own peer key, a binding of A's DID to a log key of its own, and asks B to cosign
    const rogue = generateKeyPair()
    const rogueLog = generateKeyPair()
    const fake = createLogKeyBinding(a.did, rogueLog.publicKey, generateKeyPair().publicKey, 1, rogue)
    const asRogue = (root: Uint8Array): number => {
      const note = forged(chk.size, root, rogueLog)
      const req = { op: 'add-checkpoint', binding: fake, body: addCheckpointBody(0, [], note) }
      const bytes = new TextEncoder().encode(JSON.stringify(req))
      return (b.witness.serve(bytes, peerIdFromPublicKey(rogue.publicKey)) as { status: number }).status
    }
    expect(asRogue(sha256(new Uint8Array([5])))).toBe(403)
    expect(asRogue(sha256(new Uint8Array([6])))).toBe(403)
    expect(b.store.misc.meta(`witness.binding.${a.did}`)).toBe(before)
    expect(failures(b)).toBe(0)

    // an agent rotates; whoever kept its first key binds a log key of their own to it and sends a "split view"
    const agent = await c.registerAgent('rotating-log')
    const old = keyPairFromB64(agent.identity.privateKey)
    for (const ev of c.store.keyEvents.log(agent.identity.did)) expect((await e.submitEnvelope(ev)).ok).toBe(true)
    await c.rotateAgent({ did: agent.identity.did, authority: OPERATOR })
    for (const ev of c.store.keyEvents.log(agent.identity.did).slice(1)) {
      expect((await e.submitEnvelope(ev)).ok).toBe(true)
    }
    const stale = createLogKeyBinding(agent.identity.did, rogueLog.publicKey, generateKeyPair().publicKey, 1, old)
    const split = (root: Uint8Array): string => {
      const text = checkpointText(agent.identity.did, 3, root)
      return `${text}\n${signNoteText(text, agent.identity.did, rogueLog)}`
    }
    const evidence = {
      op: 'evidence',
      origin: agent.identity.did,
      originBinding: stale,
      earlier: split(sha256(new Uint8Array([7]))),
      later: split(sha256(new Uint8Array([8]))),
    }
    expect(ask(e, c, evidence)).toBe(422)
    expect(e.trust.agent(agent.identity.did).failures).toBe(0)

    // another agent: whoever kept its first key gave e a binding before e learned of its rotation
    const victim = await c.registerAgent('rotating-log-2')
    const first = keyPairFromB64(victim.identity.privateKey)
    const [icp, ...later] = c.store.keyEvents.log(victim.identity.did)
    expect((await e.submitEnvelope(icp!)).ok).toBe(true)
    const early = createLogKeyBinding(victim.identity.did, rogueLog.publicKey, generateKeyPair().publicKey, 1, first)
    const learnIt = { op: 'add-checkpoint', binding: early, body: 'not a checkpoint' }
    const bytes = new TextEncoder().encode(JSON.stringify(learnIt))
    e.witness.serve(bytes, peerIdFromPublicKey(first.publicKey)) // learned: its key was current here then
    await c.rotateAgent({ did: victim.identity.did, authority: OPERATOR })
    for (const ev of [...later, ...c.store.keyEvents.log(victim.identity.did).slice(1)]) await e.submitEnvelope(ev)
    expect(e.store.keyEvents.state(victim.identity.did)?.seq).toBe(1)
    const splitOf = (root: Uint8Array): string => {
      const text = checkpointText(victim.identity.did, 3, root)
      return `${text}\n${signNoteText(text, victim.identity.did, rogueLog)}`
    }
    const fromTheOldKey = { op: 'evidence', origin: victim.identity.did, earlier: splitOf(sha256(new Uint8Array([9]))) }
    expect(ask(e, c, { ...fromTheOldKey, later: splitOf(sha256(new Uint8Array([10]))) })).toBe(422)
    expect(e.trust.agent(victim.identity.did).failures).toBe(0)
  }, 30_000)

  it('a log made to sign a second root for a cosigned size is caught by both witnesses; every node records it once', async () => {
    await cosigned()
    const chk = a.audit.latest()!
    for (const n of [a, b, c, e]) expect(failures(n)).toBe(0)
    // the test hook: A's own witness service asks its peers (B and C) to cosign another root for the same size
    expect(await a.witness.gather({ ...chk, root: toB64(sha256(new Uint8Array([1]))) })).toBe(0)
    for (const w of [b, c]) {
      expect(w.witness.evidence()[0]).toMatchObject({ origin: a.did, kind: 'split-view', reportedBy: w.did })
    }
    // gossiped: A, B and C each check both notes under A's log key and record the evidence once,
    // though both witnesses report it and every receiver passes it on
    await waitFor(() => [a, b, c].every((n) => failures(n) === 1), { timeout: 15_000 })
    await new Promise((r) => setTimeout(r, 1000)) // late copies change nothing
    for (const n of [a, b, c]) {
      expect(failures(n)).toBe(1)
      expect(inconsistent(n)).toBe(1)
      expect(n.trust.agent(a.did).score).toBeLessThan(0.5)
      expect(n.witness.evidence().filter((x) => x.origin === a.did)).toHaveLength(1)
    }
    // a node that never spoke to A checks the same evidence with the binding it carries, signed by the current
    // key of A's log: once it holds that log (until then a key A may have rotated away from could have signed it)
    const { earlier, later } = c.witness.evidence()[0]!
    expect(e.store.misc.meta(`witness.binding.${a.did}`)).toBeUndefined()
    const originBinding = a.witness.binding()
    expect(ask(e, c, { op: 'evidence', origin: a.did, earlier, later })).toBe(422) // no key to check it with
    expect(ask(e, c, { op: 'evidence', origin: a.did, originBinding, earlier, later })).toBe(422) // no log of A's
    for (const event of a.store.keyEvents.log(a.did)) expect((await e.submitEnvelope(event)).ok).toBe(true)
    expect(ask(e, c, { op: 'evidence', origin: a.did, originBinding, earlier, later })).toBe(200)
    expect(ask(e, b, { op: 'evidence', origin: a.did, originBinding, earlier: later, later: earlier })).toBe(200)
    expect(failures(e)).toBe(1)
    expect(inconsistent(e)).toBe(1)
    expect(e.peers()).toEqual([])
    // anyone with A's vkey can re-check it
    const log = bindingVerifiers(originBinding).log
    for (const note of [earlier, later]) expect(verifyNote(note, [log])).toHaveLength(1)
    expect(parseNote(earlier).text).not.toBe(parseNote(later).text)
  }, 60_000)

  it('a rewrite is refused with 422, and recorded only when the log itself sent it; a stale old size gets 409', async () => {
    const chk = a.audit.latest()!
    const leaves = Array.from({ length: chk.size + 3 }, (_, i) => sha256(new Uint8Array([i, 9])))
    const proof = consistencyProof(chk.size, leaves.length, leaves)
    const rewrite = forged(leaves.length, sha256(new Uint8Array([2])))
    const body = addCheckpointBody(chk.size, proof, rewrite)
    const kinds = (): string[] => c.witness.evidence().map((x) => x.kind)
    const before = failures(c)
    // from anyone (HTTP): refused, but the unsigned proof blames nobody
    expect(c.witness.addCheckpoint(body).status).toBe(422)
    expect(ask(c, b, { op: 'add-checkpoint', body })).toBe(422)
    expect(kinds()).toEqual(['split-view'])
    // from the log itself over libp2p: the log's own proof fails to join what C cosigned
    expect(ask(c, a, { op: 'add-checkpoint', body })).toBe(422)
    expect(kinds()).toEqual(['split-view', 'rewrite'])
    expect(failures(c)).toBe(before + 1)
    const stale = c.witness.addCheckpoint(addCheckpointBody(0, [], forged(chk.size, fromB64(chk.root, 'r', 32))))
    expect(stale).toMatchObject({ status: 409, contentType: 'text/x.tlog.size', body: `${chk.size}\n` })
  }, 60_000)

  it('POST /witness/add-checkpoint answers with the C2SP tlog-witness status codes and bodies', async () => {
    const post = async (body: string) => {
      const res = await fetch(`${bApi.url}/witness/add-checkpoint`, { method: 'POST', body })
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
    }
    await cosigned() // B has cosigned A's latest checkpoint
    await a.registerAgent('http-witnessed') // entries past it, not yet checkpointed
    const cosignedSize = (JSON.parse(b.store.misc.meta(`witness.state.${a.did}`)!) as { size: number }).size
    expect(cosignedSize).toBe(a.audit.latest()!.size)
    const n = a.store.auditEntries.count()
    const doc = a.audit.consistency(cosignedSize, n)
    const proof = doc.proof.map((h) => fromB64(h, 'proof', 32))
    const next = forged(n, fromB64(doc.secondRoot, 'root', 32))
    // 400: not the body the spec defines; an old size above the checkpoint's
    expect((await post('old 1\nnot base64\n\n' + next)).status).toBe(400)
    expect((await post(addCheckpointBody(n + 1, [], next))).status).toBe(400)
    // 404: a log this witness does not know
    const stranger = generateKeyPair()
    const unknown = checkpointText('did:msig:11111111111111111111111111111111', 1, sha256(new Uint8Array([5])))
    expect((await post(addCheckpointBody(0, [], `${unknown}\n${signNoteText(unknown, 'x', stranger)}`))).status).toBe(
      404,
    )
    // 403: only a signature under another key; the log key's own line with its signature bytes changed
    expect(
      (await post(addCheckpointBody(cosignedSize, proof, forged(n, sha256(new Uint8Array([6])), stranger)))).status,
    ).toBe(403)
    const sigAt = next.lastIndexOf(' ') + 10
    const badSig = next.slice(0, sigAt) + (next[sigAt] === 'A' ? 'B' : 'A') + next.slice(sigAt + 1)
    expect((await post(addCheckpointBody(cosignedSize, proof, badSig))).status).toBe(403)
    // 409: not the size last cosigned — the body is that size, as text/x.tlog.size
    const stale = await post(addCheckpointBody(0, [], next))
    expect(stale).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: `${cosignedSize}\n` })
    // 422: a consistency proof that does not verify
    const wrong = proof.length > 0 ? [sha256(new Uint8Array([7])), ...proof.slice(1)] : [sha256(new Uint8Array([7]))]
    const evidence = b.witness.evidence().length
    expect((await post(addCheckpointBody(cosignedSize, wrong, next))).status).toBe(422)
    expect(b.witness.evidence()).toHaveLength(evidence) // anyone can pair A's note with a broken proof: no blame
    // 200: the cosignature line, under B's witness key, with a time; B now holds the new size
    const ok = await post(addCheckpointBody(cosignedSize, proof, next))
    expect(ok.status).toBe(200)
    expect(ok.text).toMatch(/^— \S+\/witness [A-Za-z0-9+/=]+\n$/)
    const [cosig] = verifyNote(`${next}${ok.text}`, [bindingVerifiers(b.witness.binding()).witness])
    expect(cosig!.timestamp).toBeGreaterThan(0)
    expect((await post(addCheckpointBody(cosignedSize, proof, next))).text).toBe(`${n}\n`) // now 409 with n
  }, 60_000)
})
