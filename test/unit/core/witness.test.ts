/**
 * The witness's decision on C2SP tlog-witness add-checkpoint requests
 * (c2sp.org/tlog-witness, docs/audit.md "Split views, rewrites and
 * evidence"), rule by rule in the spec's order, and the evidence checks: a
 * note is kept as its log signed it (whatever other lines it was padded
 * with), and a split view is believed only when both notes verify under the
 * log's key.
 */
import { describe, expect, it } from 'vitest'
import { EMPTY_ROOT, consistencyProof, generateKeyPair, merkleRoot, sha256, toB64 } from '../../../node/core/index.js'
import { NOTE_ED25519, checkpointText, noteVerifier, signNoteText } from '../../../node/core/note.js'
import { addCheckpointBody, decideAddCheckpoint, type WitnessedState } from '../../../node/core/witness.js'
import { checkSplitView, logSignedNote } from '../../../node/core/witness-evidence.js'

const ORIGIN = 'example.com/log'
const logKey = generateKeyPair()
const log = noteVerifier(ORIGIN, NOTE_ED25519, logKey.publicKey)
const leaves = Array.from({ length: 20 }, (_, i) => sha256(new Uint8Array([i])))
const rootOf = (n: number): Uint8Array => merkleRoot(leaves.slice(0, n))

function note(size: number, root: Uint8Array, key = logKey, name = ORIGIN): string {
  const text = checkpointText(ORIGIN, size, root)
  return `${text}\n${signNoteText(text, name, key)}`
}

function decide(body: string, state?: WitnessedState) {
  return decideAddCheckpoint(
    body,
    (o) => (o === ORIGIN ? log : null),
    () => state,
  )
}

const at = (size: number): WitnessedState => ({ size, root: toB64(rootOf(size)), note: note(size, rootOf(size)) })

describe('decideAddCheckpoint', () => {
  it('cosigns the first checkpoint (old 0, no proof) and a consistent larger one', () => {
    expect(decide(addCheckpointBody(0, [], note(8, rootOf(8)))).status).toBe(200)
    const proof = consistencyProof(8, 13, leaves.slice(0, 13))
    expect(decide(addCheckpointBody(8, proof, note(13, rootOf(13))), at(8)).status).toBe(200)
    expect(decide(addCheckpointBody(8, [], note(8, rootOf(8))), at(8)).status).toBe(200) // the same again
  })

  it('answers 400 for a malformed body and for an old size above the checkpoint size', () => {
    expect(decide('old 01\n\n' + note(8, rootOf(8))).status).toBe(400)
    expect(decide('old 0\n' + note(8, rootOf(8))).status).toBe(400)
    const tooMany = Array.from({ length: 64 }, () => rootOf(1))
    expect(decide(addCheckpointBody(0, tooMany, note(8, rootOf(8)))).status).toBe(400)
    expect(decide(addCheckpointBody(9, [], note(8, rootOf(8)))).status).toBe(400)
  })

  it('answers 404 for an unknown origin and 403 when no trusted signature verifies', () => {
    const other = checkpointText('other.example/log', 1, rootOf(1))
    expect(decide(addCheckpointBody(0, [], `${other}\n${signNoteText(other, 'x', logKey)}`)).status).toBe(404)
    expect(decide(addCheckpointBody(0, [], note(8, rootOf(8), generateKeyPair()))).status).toBe(403)
    const good = note(8, rootOf(8))
    const i = good.lastIndexOf(' ') + 5
    const bad = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1)
    expect(decide(addCheckpointBody(0, [], bad)).status).toBe(403)
  })

  it('answers 409 with the latest cosigned size when the old size is not it', () => {
    const d = decide(addCheckpointBody(0, [], note(13, rootOf(13))), at(8))
    expect(d).toMatchObject({ status: 409, latestSize: 8 })
    expect('evidence' in d && d.evidence).toBeFalsy()
  })

  it('answers 422 for a size-0 root that is not empty, a proof from 0, and a proof that fails', () => {
    expect(decide(addCheckpointBody(0, [], note(0, EMPTY_ROOT))).status).toBe(200)
    expect(decide(addCheckpointBody(0, [], note(0, rootOf(1)))).status).toBe(422)
    expect(decide(addCheckpointBody(0, [rootOf(1)], note(8, rootOf(8)))).status).toBe(422)
    const proof = consistencyProof(8, 13, leaves.slice(0, 13))
    const d = decide(addCheckpointBody(8, proof, note(13, sha256(new Uint8Array([99])))), at(8))
    expect(d).toMatchObject({ status: 422, evidence: { kind: 'rewrite' } })
  })

  it('refuses a second root for the cosigned size with its evidence: 422, or 409 when the old size differs', () => {
    const split = note(8, sha256(new Uint8Array([7])))
    expect(decide(addCheckpointBody(8, [], split), at(8))).toMatchObject({
      status: 422,
      evidence: { kind: 'split-view', later: split },
    })
    expect(decide(addCheckpointBody(3, [], split), at(8))).toMatchObject({ status: 409, latestSize: 8 })
  })
})

describe('split-view evidence', () => {
  const one = note(8, rootOf(8))
  const two = note(8, sha256(new Uint8Array([7])))

  it('is kept as the log signed it: the text and the log key’s line, nothing else the note carried', () => {
    const text = checkpointText(ORIGIN, 8, rootOf(8))
    const padded = `${one}${signNoteText(text, 'witness.example/w', generateKeyPair())}— junk ${'A'.repeat(300)}\n`
    expect(logSignedNote(padded, log)).toBe(one)
    expect(logSignedNote(one, log)).toBe(one)
    expect(() => logSignedNote(note(8, rootOf(8), generateKeyPair()), log)).toThrow(/no signature line of the log/)
  })

  it('is believed only when both notes are the log key’s, for one size, with two roots', () => {
    expect(checkSplitView(one, two, log)).toBe(ORIGIN)
    const foreign = note(8, sha256(new Uint8Array([6])), generateKeyPair())
    expect(() => checkSplitView(one, foreign, log)).toThrow(/no signature of a known key/)
    expect(() => checkSplitView(one, one, log)).toThrow(/same root/)
    expect(() => checkSplitView(one, note(9, rootOf(9)), log)).toThrow(/one size/)
    const otherLog = noteVerifier('other.example/log', NOTE_ED25519, logKey.publicKey)
    expect(() => checkSplitView(one, two, otherLog)).toThrow(/not of the log/)
  })
})
