/**
 * A node that rotates its identity key makes a new log key and witness key
 * too (attack review 119, F2; decision 0084). A thief who copied the home
 * before the rotation keeps the old `log.key`: notes it signs after the
 * rotation are no longer vouched for by the owner's binding, so a witness
 * records no split view against the owner from them. The witness takes the
 * new log key at once (its binding is signed by the DID's new current key,
 * the held one by a key the DID rotated away from), still refuses another
 * log key under that same current key, the node comes back with the new
 * keys, and its audit export still verifies.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  keyPairFromSeed,
  peerIdFromPublicKey,
  sha256,
  toB64,
  type KeyPair,
} from '../../node/core/index.js'
import { checkAuditNote } from '../../node/core/audit-note.js'
import { createLogKeyBinding, type LogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { createIdentity, loadIdentity, rotateIdentity, type Identity } from '../../node/identity/index.js'
import { LOG_KEY_FILE } from '../../node/identity/log-keys.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { heldLog } from '../../node/services/witness-logs.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const HOUR = 3_600_000
const quiet = { checkpointIntervalMs: HOUR }

/** The log key pair in the home's `log.key`, as a thief who copied the home has it. */
function logKeyFile(home: string): KeyPair {
  return keyPairFromSeed(new Uint8Array(Buffer.from(readFileSync(join(home, LOG_KEY_FILE), 'utf8').trim(), 'base64')))
}

/** The `checkpoint.inconsistent` entries in `n`'s audit log against `did`. */
function inconsistent(n: MeshNode, did: string): unknown[] {
  return n.store.auditEntries
    .entries(0, n.store.auditEntries.count())
    .map((row) => JSON.parse(row.entry) as { kind: string; subject: string | null })
    .filter((e) => e.kind === 'checkpoint.inconsistent' && e.subject === did)
}

/** A note of `did` at `size` with root `r`, signed by `log`. */
function note(did: string, size: number, r: Uint8Array, log: KeyPair): string {
  const text = checkpointText(did, size, r)
  return `${text}\n${signNoteText(text, did, log)}`
}

describe('a node rotates its identity key: new log and witness keys (decision 0084)', () => {
  let a: MeshNode | undefined
  let w: MeshNode
  const home = tempDir()
  const dbPath = join(home.dir, 'node.db')
  let before: LogKeyBinding
  let after: LogKeyBinding
  let stolen: KeyPair
  let rotated: Identity

  beforeAll(async () => {
    createIdentity(home.dir)
    a = await startNode({ identity: loadIdentity(home.dir), home: home.dir, dbPath, init: quiet })
    w = await startNode({
      peers: [a.info().multiaddrs[0]!],
      init: { ...quiet, limits: { witness: { idleOriginMs: HOUR } } },
    })
    await waitFor(() => a!.peers().length === 1, { timeout: 20_000 })
    await a.registerAgent('alice')
    const first = await a.checkpoint()
    expect(await a.witness.gather(first)).toBe(1)
    before = a.witness.binding()
    stolen = logKeyFile(home.dir) // the thief copies the home
    expect(toB64(stolen.publicKey)).toBe(before.logKey)

    const r = rotateIdentity(home.dir)
    rotated = r.identity
    await a.rotateAgent({ did: a.did, envelope: r.rotation, authority: OPERATOR })
    after = a.witness.binding()
    await waitFor(() => w.store.keyEvents.state(a!.did)?.lastId === envelopeId(r.rotation), { timeout: 20_000 })
    await waitFor(() => a!.peers().some((p) => p.peerId === w.mesh.peerId), { timeout: 20_000 })
  }, 120_000)

  afterAll(async () => {
    await stopAll([a, w])
    home.cleanup()
  })

  it('makes a new log key and witness key, bound by the new identity key and kept in the home', () => {
    expect(after.logKey).not.toBe(before.logKey)
    expect(after.witnessKey).not.toBe(before.witnessKey)
    expect(toB64(logKeyFile(home.dir).publicKey)).toBe(after.logKey)
  })

  it('the witness cosigns the next checkpoint under the new log key at once (no idle wait)', async () => {
    await a!.registerAgent('bob')
    const chk = await a!.checkpoint()
    expect(await a!.witness.gather(chk)).toBe(1)
    expect(heldLog(w.store.misc, a!.did)).toMatchObject({ size: chk.size, binding: { logKey: after.logKey } })
    expect(a!.notes.note(chk).split('\n— ')).toHaveLength(3) // the log's line and the witness's
  })

  it("a note the old log key signs against the owner's honest checkpoint is no split view of the owner", async () => {
    const did = a!.did
    const chk = a!.audit.latest()!
    const other = sha256(new Uint8Array([84, chk.size]))
    // the witness keeps the owner's honest chk of that size (gossip)
    await waitFor(() => w.store.auditEntries.conflictingRemoteCheckpoint(did, chk.size, toB64(other)), {
      timeout: 20_000,
    })
    const forged = note(did, chk.size, other, stolen)
    const answers = [0, chk.size].map((old) => w.witness.addCheckpoint(addCheckpointBody(old, [], forged)).status)
    expect(answers.every((s) => s !== 200 && s !== 422)).toBe(true)
    // as relayed evidence too: two notes of the old log key, offered with the binding of the old identity key
    const relay = generateKeyPair()
    const relayDid = didFromPublicKey(relay.publicKey)
    const frame = {
      op: 'evidence',
      binding: createLogKeyBinding(
        relayDid,
        generateKeyPair().publicKey,
        generateKeyPair().publicKey,
        Date.now(),
        relay,
      ),
      origin: did,
      originBinding: before,
      earlier: note(did, chk.size, sha256(new Uint8Array([1])), stolen),
      later: forged,
    }
    const bytes = new TextEncoder().encode(JSON.stringify(frame))
    expect((w.witness.serve(bytes, peerIdFromPublicKey(relay.publicKey)) as { status: number }).status).toBe(422)
    expect(inconsistent(w, did)).toEqual([])
    expect(w.witness.evidence().filter((e) => e.origin === did)).toEqual([])
  })

  it('another log key under the same (new) identity key is still refused within the idle window', () => {
    const did = a!.did
    const other = generateKeyPair()
    const binding = createLogKeyBinding(did, other.publicKey, generateKeyPair().publicKey, Date.now(), rotated.keyPair)
    const chk = a!.audit.latest()!
    const body = addCheckpointBody(chk.size, [], note(did, chk.size + 1, sha256(new Uint8Array([9])), other))
    const frame = new TextEncoder().encode(JSON.stringify({ op: 'add-checkpoint', binding, body }))
    const res = w.witness.serve(frame, peerIdFromPublicKey(rotated.keyPair.publicKey)) as {
      status: number
      body?: string
    }
    expect(res).toEqual({
      status: 403,
      body: `${did} is witnessed here under another log key: a log key is not replaced under the same identity key`,
    })
    expect(heldLog(w.store.misc, did)?.binding?.logKey).toBe(after.logKey)
  })

  it('comes back after a restart with the new keys; its export verifies with the note cosigned', async () => {
    await a!.stop()
    a = await startNode({ identity: loadIdentity(home.dir), home: home.dir, dbPath, init: quiet })
    expect(a.witness.binding()).toMatchObject({ logKey: after.logKey, witnessKey: after.witnessKey })
    // as GET /audit/export builds it (api/routes/audit-routes.ts): the report with the note and its keys
    const built = a.auditExport()
    const report = JSON.parse(JSON.stringify({ ...built, ...a.auditorView(built.checkpoint) })) as Record<
      string,
      unknown
    >
    const check = checkAuditExport(report)
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
    const noteCheck = checkAuditNote(report, { keys: [], quorum: 1 })
    expect(noteCheck).toMatchObject({ ok: true, logSigned: true, problems: [] })
    expect(noteCheck.cosigners).toHaveLength(1)
  })
})
