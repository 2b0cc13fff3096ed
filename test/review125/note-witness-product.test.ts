/**
 * Review 125: `meshsig audit verify` checks the note once per listed witness,
 * parsing the whole note text again each time (checkAuditNote ->
 * verifyNote(doc.note, [w]) -> parseNote). The note text and the witness list
 * are both the file's, unbounded: CPU is |note| x witnesses. A 10 MB note and
 * 300 witnesses (a 10.1 MB file) costs seconds; 10,000 witnesses (a 14 MB
 * file) costs minutes. Parsing the note once must make it cost ~ one parse.
 */
import { describe, expect, it } from 'vitest'
import { checkAuditNote } from '../../node/core/audit-note.js'
import { createCheckpoint, didFromPublicKey, generateKeyPair, sha256, toB64 } from '../../node/core/index.js'
import { createLogKeyBinding } from '../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../node/core/note.js'

function forged(witnessCount: number, padding: number): Record<string, unknown> {
  const node = generateKeyPair()
  const log = generateKeyPair()
  const did = didFromPublicKey(node.publicKey)
  const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, 1, node)
  const root = sha256(new Uint8Array([9]))
  const text = checkpointText(did, 3, root)
  const witnesses = Array.from({ length: witnessCount }, () => {
    const k = generateKeyPair()
    const d = didFromPublicKey(k.publicKey)
    return { did: d, binding: createLogKeyBinding(d, generateKeyPair().publicKey, generateKeyPair().publicKey, 1, k) }
  })
  // the text before the last blank line is the note's text: any size the file likes
  const note = `${'x'.repeat(padding)}\n\n${signNoteText(text, did, log)}`
  return {
    checkpoint: createCheckpoint(did, 3, root, 1, node),
    nodePublicKey: toB64(node.publicKey),
    logKeys: { binding },
    note,
    witnesses,
  }
}

describe('review 125: note size x listed witnesses', () => {
  it('a 10 MB note with 300 listed witnesses is checked in about the time of one parse', () => {
    const doc = forged(300, 10_000_000)
    console.log('file bytes', JSON.stringify(doc).length)
    const t0 = performance.now()
    const check = checkAuditNote(doc, { keys: [], quorum: 0 })
    const ms = performance.now() - t0
    console.log('checkAuditNote ms', Math.round(ms), 'witness keys', check.witnessKeys.length)
    expect(check.ok).toBe(false)
    expect(ms).toBeLessThan(1500)
  }, 120_000)
})
