// Attack review 125, M1: checkAuditNote parses the note once, whatever the witnesses listed, reads at most 16 of
// them and no note past MAX_NOTE_LENGTH; what is past a cap is a problem of the check (docs/audit.md, decision 0089).
/**
 * The reviewer: `checkAuditNote` called `verifyNote(doc.note, [w])` once per
 * listed witness, each call parsing the whole note again; the note text and
 * the witness list are the file's, unbounded (a 10 MB note and 1,000
 * self-made witnesses: 15.7 s; the CLI on 13.6 MB with 8,000: 2 min 17 s).
 * Here the work is counted: parses of the note, bindings checked.
 */
import { describe, expect, it, vi } from 'vitest'

const calls = vi.hoisted(() => ({ parses: 0, bindings: 0 }))
vi.mock('../../../node/core/note.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../../node/core/note.js')>()
  return {
    ...m,
    parseNote: (...args: Parameters<typeof m.parseNote>) => {
      calls.parses++
      return m.parseNote(...args)
    },
    // verifyNote given the note's text parses it (inside note.ts, where the mock above does not reach)
    verifyNote: (...args: Parameters<typeof m.verifyNote>) => {
      if (typeof args[0] === 'string') calls.parses++
      return m.verifyNote(...args)
    },
  }
})
vi.mock('../../../node/core/log-key-binding.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../../node/core/log-key-binding.js')>()
  return {
    ...m,
    verifyLogKeyBinding: (...args: Parameters<typeof m.verifyLogKeyBinding>) => {
      calls.bindings++
      return m.verifyLogKeyBinding(...args)
    },
  }
})

import { MAX_COSIGNATURES } from '../../../node/audit/checkpoint-notes.js'
import { MAX_LISTED_WITNESSES, MAX_NOTE_LENGTH, checkAuditNote } from '../../../node/core/audit-note.js'
import { createCheckpoint, didFromPublicKey, generateKeyPair, sha256, toB64 } from '../../../node/core/index.js'
import { createLogKeyBinding, witnessName } from '../../../node/core/log-key-binding.js'
import { checkpointText, cosignCheckpoint, signNoteText } from '../../../node/core/note.js'

/** An export whose note (after `padding` characters of text before it) `cosigning` of its `listed` witnesses cosigned. */
function forged(listed: number, cosigning: number, padding: number): Record<string, unknown> {
  const node = generateKeyPair()
  const log = generateKeyPair()
  const did = didFromPublicKey(node.publicKey)
  const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, 1, node)
  const root = sha256(new Uint8Array([9]))
  const text = checkpointText(did, 3, root)
  const t = Math.floor(Date.now() / 1000)
  const witnesses = Array.from({ length: listed }, () => {
    const k = generateKeyPair()
    const w = generateKeyPair()
    const d = didFromPublicKey(k.publicKey)
    return { did: d, w, binding: createLogKeyBinding(d, generateKeyPair().publicKey, w.publicKey, 1, k) }
  })
  const cosigs = witnesses.slice(0, cosigning).map((x) => cosignCheckpoint(text, witnessName(x.did), x.w, t))
  // the text before the last blank line is the note's text: any size the file likes
  const pad = padding > 0 ? `${'x'.repeat(padding)}\n\n` : ''
  return {
    checkpoint: createCheckpoint(did, 3, root, 1, node),
    nodePublicKey: toB64(node.publicKey),
    logKeys: { binding },
    note: `${pad}${text}\n${signNoteText(text, did, log)}${cosigs.join('')}`,
    witnesses: witnesses.map((x) => ({ did: x.did, binding: x.binding })),
  }
}

function counted(doc: Record<string, unknown>, quorum: number) {
  calls.parses = 0
  calls.bindings = 0
  const check = checkAuditNote(doc, { keys: [], quorum })
  return { check, parses: calls.parses, bindings: calls.bindings }
}

describe('the note check does work bounded by one parse and 16 witnesses (review 125, M1)', () => {
  it('the cap is what a node keeps', () => {
    expect(MAX_LISTED_WITNESSES).toBe(MAX_COSIGNATURES)
  })

  it('an honest note with 16 cosigning witnesses: one parse, 17 bindings, verifies', () => {
    const { check, parses, bindings } = counted(forged(16, 16, 0), 16)
    expect(check.problems).toEqual([])
    expect(check.cosigners).toHaveLength(16)
    expect(check.ok).toBe(true)
    expect([parses, bindings]).toEqual([1, 17])
  })

  it('300 listed witnesses: one parse, 17 bindings checked, and the list is a problem', () => {
    const { check, parses, bindings } = counted(forged(300, 2, 0), 0)
    expect([parses, bindings]).toEqual([1, 17])
    expect(check.witnessKeys).toHaveLength(MAX_LISTED_WITNESSES)
    expect(check.ok).toBe(false)
    expect(check.problems.join('\n')).toMatch(/lists 300 witnesses; a node lists at most 16/)
  })

  it('a note longer than MAX_NOTE_LENGTH is never parsed: a problem', () => {
    const { check, parses } = counted(forged(3, 3, MAX_NOTE_LENGTH), 0)
    expect(parses).toBe(0)
    expect(check.ok).toBe(false)
    expect(check.logSigned).toBe(false)
    expect(check.problems.join('\n')).toMatch(/no note is longer than 65536/)
  })
})
