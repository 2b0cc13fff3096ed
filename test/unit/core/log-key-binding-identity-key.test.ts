/**
 * SPEC §5: the log key and the witness key are each used for nothing else,
 * and the identity key never signs a note. A log key binding that names the
 * identity key it is verified under, as log key or as witness key, is
 * refused, so a note signed by the identity key never passes as "signed by
 * the log key".
 */
import { describe, expect, it } from 'vitest'
import { checkAuditNote } from '../../../node/core/audit-note.js'
import { generateKeyPair } from '../../../node/core/index.js'
import { createLogKeyBinding, verifyLogKeyBinding } from '../../../node/core/log-key-binding.js'
import { checkpointText, signNoteText } from '../../../node/core/note.js'
import { syntheticExport } from '../../helpers/synthetic-export.js'

const T0 = Date.now() - 60_000

function nodeExport() {
  const node = generateKeyPair()
  const init = {
    ts: T0,
    kind: 'peer.joined' as const,
    subject: null,
    envelopeId: null,
    code: null,
    data: { peerId: 'x' },
  }
  return syntheticExport([init], {}, node, T0 + 1000)
}

describe('a log key binding that names the identity key', () => {
  it('as its log key is refused, and a note the identity key signed is not "signed by the log key"', () => {
    const b = nodeExport()
    const binding = createLogKeyBinding(b.nodeDid, b.node.publicKey, generateKeyPair().publicKey, T0, b.node)
    expect(() => verifyLogKeyBinding(binding, b.node.publicKey)).toThrow(/identity key/)
    const chk = b.doc.checkpoint as { origin: string; size: number; root: string }
    const text = checkpointText(chk.origin, chk.size, Buffer.from(chk.root, 'base64'))
    const note = text + '\n' + signNoteText(text, b.nodeDid, b.node)
    const result = checkAuditNote({ ...b.doc, note, logKeys: { binding } }, { keys: [], quorum: 0 })
    expect(result.logSigned).toBe(false)
    expect(result.ok).toBe(false)
    expect(result.problems.join('\n')).toMatch(/the log keys are not bound to the node: .*identity key/)
  })

  it('as its witness key is refused', () => {
    const b = nodeExport()
    const binding = createLogKeyBinding(b.nodeDid, generateKeyPair().publicKey, b.node.publicKey, T0, b.node)
    expect(() => verifyLogKeyBinding(binding, b.node.publicKey)).toThrow(/identity key/)
  })

  it('control: keys of their own are accepted', () => {
    const b = nodeExport()
    const binding = createLogKeyBinding(b.nodeDid, generateKeyPair().publicKey, generateKeyPair().publicKey, T0, b.node)
    expect(verifyLogKeyBinding(binding, b.node.publicKey)).toEqual(binding)
  })
})
