/**
 * The cosignature slots of a checkpoint note (node/audit/checkpoint-notes.ts,
 * docs/audit.md; attack review 97, decision 0066): one line per witness key,
 * the newest it sent; when all 16 slots are taken, the witnesses held keep
 * theirs and a newcomer's line is not kept; a line that does not verify
 * changes nothing; rows written before kept several lines of one key, and
 * the note shows one.
 */
import { describe, expect, it } from 'vitest'
import { CheckpointNotes, MAX_COSIGNATURES } from '../../node/audit/checkpoint-notes.js'
import { didFromPublicKey, generateKeyPair, sha256, toB64, type KeyPair } from '../../node/core/index.js'
import { bindingVerifiers, createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { cosignCheckpoint, parseNote, type NoteVerifier } from '../../node/core/note.js'
import { memoryStore } from '../helpers/service-kit.js'

interface Witness {
  readonly key: KeyPair
  readonly verifier: NoteVerifier
}

function witness(): Witness {
  const id = generateKeyPair()
  const key = generateKeyPair()
  const binding = createLogKeyBinding(didFromPublicKey(id.publicKey), generateKeyPair().publicKey, key.publicKey, 1, id)
  return { key, verifier: bindingVerifiers(binding).witness }
}

describe('cosignature slots of a checkpoint note', () => {
  const store = memoryStore()
  const id = generateKeyPair()
  const logKey = generateKeyPair()
  const did = didFromPublicKey(id.publicKey)
  const binding = createLogKeyBinding(did, logKey.publicKey, generateKeyPair().publicKey, 1, id)
  const notes = new CheckpointNotes({ store, logKey: () => logKey, binding: () => binding })
  const chk = { origin: did, size: 9, root: toB64(sha256(new Uint8Array([9]))) }
  const text = notes.text(chk)
  const line = (w: Witness, time: number): string => cosignCheckpoint(text, w.verifier.name, w.key, time)
  const names = (): string[] => parseNote(notes.note(chk)).signatures.map((s) => s.name)

  it('keeps the newest line of a witness key, in place of the one it held', () => {
    const w = witness()
    expect(notes.addCosignatures(chk, line(w, 100) + line(w, 300) + line(w, 200), w.verifier)).toBe('kept')
    expect(notes.cosignatures(chk.size, chk.root)).toEqual([line(w, 300)])
    expect(notes.addCosignatures(chk, line(w, 400), w.verifier)).toBe('kept')
    expect(notes.cosignatures(chk.size, chk.root)).toEqual([line(w, 400)])
  })

  it('keeps the witnesses held when the slots are full; a held one still replaces its own line', () => {
    // with the witness of the test before, 16
    const held = Array.from({ length: MAX_COSIGNATURES - 1 }, witness)
    for (const w of held) expect(notes.addCosignatures(chk, line(w, 500), w.verifier)).toBe('kept')
    expect(names()).toHaveLength(MAX_COSIGNATURES + 1) // the log's own line and 16 cosignatures
    const before = notes.cosignatures(chk.size, chk.root)
    const newcomer = witness()
    expect(notes.addCosignatures(chk, line(newcomer, 600), newcomer.verifier)).toBe('full')
    expect(notes.cosignatures(chk.size, chk.root)).toEqual(before)
    expect(notes.addCosignatures(chk, line(held[0]!, 700), held[0]!.verifier)).toBe('kept')
    expect(notes.cosignatures(chk.size, chk.root)).toContain(line(held[0]!, 700))
    expect(notes.cosignatures(chk.size, chk.root)).toHaveLength(MAX_COSIGNATURES)
  })

  it('changes nothing for a line that does not verify', () => {
    const before = notes.cosignatures(chk.size, chk.root)
    const w = witness()
    const other = witness()
    expect(notes.addCosignatures(chk, line(other, 800), w.verifier)).toBe('invalid')
    expect(notes.cosignatures(chk.size, chk.root)).toEqual(before)
  })

  it('shows one line per witness of a row that holds several', () => {
    const w = witness()
    const other = witness()
    const lines = [line(w, 1), line(other, 2), line(w, 3)]
    store.misc.setMetaValue('audit.cosig.10', JSON.stringify({ root: chk.root, lines }))
    expect(notes.cosignatures(10, chk.root)).toEqual([line(other, 2), line(w, 3)])
  })
})
