/**
 * Mesh peers as witnesses (issue 11, docs/audit.md): three nodes cosign each
 * other's checkpoints (C2SP tlog-witness over libp2p), so every checkpoint
 * note carries two cosignatures; a log made to sign two roots for one size
 * is caught (the spec's 422), the evidence recorded in the audit log and
 * gossiped to the third node; a checkpoint that rewrites history is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consistencyProof, fromB64, sha256 } from '../../node/core/index.js'
import { bindingVerifiers } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText, verifyNote } from '../../node/core/note.js'
import { addCheckpointBody } from '../../node/core/witness.js'
import { ensureLogKeys } from '../../node/identity/log-keys.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('three nodes witness each other', () => {
  let a: MeshNode, b: MeshNode, c: MeshNode
  const home = tempDir()

  beforeAll(async () => {
    a = await startNode({ home: home.dir, init: { checkpointIntervalMs: 3_600_000 } })
    b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    c = await startNode({ peers: [a.info().multiaddrs[0]!, b.info().multiaddrs[0]!] })
    await waitFor(() => a.peers().length === 2 && b.peers().length === 2, { timeout: 20_000 })
  }, 60_000)

  afterAll(async () => {
    await stopAll([a, b, c])
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

  it('a second root for a cosigned size is caught, recorded and gossiped; a rewrite is refused', async () => {
    const chk = a.audit.latest()!
    const logKey = ensureLogKeys(home.dir).log // the hand-made note: A's own log key signs a second root
    const name = a.did
    const forged = (size: number, root: Uint8Array): string => {
      const text = checkpointText(name, size, root)
      return `${text}\n${signNoteText(text, name, logKey)}`
    }
    const split = forged(chk.size, sha256(new Uint8Array([1])))
    const answer = b.witness.addCheckpoint(addCheckpointBody(chk.size, [], split))
    expect(answer.status).toBe(422)
    expect(b.witness.evidence()[0]).toMatchObject({ origin: a.did, kind: 'split-view' })
    const entries = b.auditExport().entries.filter((e) => e.kind === 'checkpoint.inconsistent')
    expect(entries.map((e) => e.subject)).toEqual([a.did])
    // gossiped: C checks both notes under A's log key and records the same evidence
    await waitFor(() => c.witness.evidence().length === 1, { timeout: 15_000 })
    expect(c.witness.evidence()[0]).toMatchObject({ origin: a.did, kind: 'split-view' })
    expect(c.witness.addCheckpoint(addCheckpointBody(chk.size, [], split)).status).toBe(422)

    // a rewrite: a larger tree whose proof does not join the cosigned root
    const leaves = Array.from({ length: chk.size + 3 }, (_, i) => sha256(new Uint8Array([i, 9])))
    const proof = consistencyProof(chk.size, leaves.length, leaves)
    const rewrite = forged(leaves.length, sha256(new Uint8Array([2])))
    const refused = c.witness.addCheckpoint(addCheckpointBody(chk.size, proof, rewrite))
    expect(refused.status).toBe(422)
    expect(c.witness.evidence().map((e) => e.kind)).toEqual(['split-view', 'rewrite'])
    // a stale old size is answered 409 with the latest cosigned size
    const stale = c.witness.addCheckpoint(addCheckpointBody(0, [], forged(chk.size, fromB64(chk.root, 'r', 32))))
    expect(stale).toMatchObject({ status: 409, contentType: 'text/x.tlog.size', body: `${chk.size}\n` })
  }, 60_000)
})
