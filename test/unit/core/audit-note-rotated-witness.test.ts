/**
 * `meshsig audit verify --witnesses K` with the witness keys the export lists
 * (attack review 113, L2; decision 0079). A witness that rotated its identity
 * key re-signs its log-key binding with its new key, and exports list that
 * binding; the export carries no key event log of its witnesses, so the
 * binding cannot be checked under the key its DID names. Such a witness is
 * not counted — it fails nothing by itself, the quorum decides: an honest
 * export that another witness's cosignature carries verifies, and a doctored
 * one whose only cosigner is such a witness does not.
 */
import { describe, expect, it } from 'vitest'
import { checkAuditNote } from '../../../node/core/audit-note.js'
import { createCheckpoint, didFromPublicKey, generateKeyPair, sha256, toB64 } from '../../../node/core/index.js'
import { createLogKeyBinding, witnessName, type LogKeyBinding } from '../../../node/core/log-key-binding.js'
import { checkpointText, cosignCheckpoint, signNoteText } from '../../../node/core/note.js'
import type { KeyPair } from '../../../node/core/index.js'

interface Witness {
  readonly did: string
  readonly wkey: KeyPair
  readonly binding: LogKeyBinding
}

/** A witness; `rotated`: its binding is signed by a key other than the one its DID names. */
function witness(rotated: boolean): Witness {
  const inception = generateKeyPair()
  const current = rotated ? generateKeyPair() : inception
  const did = didFromPublicKey(inception.publicKey)
  const wkey = generateKeyPair()
  const binding = createLogKeyBinding(did, generateKeyPair().publicKey, wkey.publicKey, Date.now(), current)
  return { did, wkey, binding }
}

/** An export of a checkpoint of size 3 whose note `cosigners` cosigned, listing `listed` as its witnesses. */
function exported(cosigners: readonly Witness[], listed: readonly Witness[]): Record<string, unknown> {
  const node = generateKeyPair()
  const log = generateKeyPair()
  const did = didFromPublicKey(node.publicKey)
  const binding = createLogKeyBinding(did, log.publicKey, generateKeyPair().publicKey, Date.now(), node)
  const root = sha256(new Uint8Array([9]))
  const text = checkpointText(did, 3, root)
  const t = Math.floor(Date.now() / 1000)
  const cosignatures = cosigners.map((w) => cosignCheckpoint(text, witnessName(w.did), w.wkey, t)).join('')
  return {
    checkpoint: createCheckpoint(did, 3, root, Date.now(), node),
    nodePublicKey: toB64(node.publicKey),
    logKeys: { binding },
    note: `${text}\n${signNoteText(text, did, log)}${cosignatures}`,
    witnesses: listed.map((w) => ({ did: w.did, binding: w.binding })),
  }
}

describe('export witnesses whose binding cannot be checked', () => {
  it('one rotated witness does not fail a quorum another witness meets', () => {
    const [rotated, steady] = [witness(true), witness(false)]
    const check = checkAuditNote(exported([rotated, steady], [rotated, steady]), { keys: [], quorum: 1 })
    expect(check.logSigned).toBe(true)
    expect(check.cosigners).toHaveLength(1)
    expect(check.problems).toEqual([])
    expect(check.notCounted).toHaveLength(1)
    expect(check.notCounted[0]).toContain(rotated.did)
    expect(check.ok).toBe(true)
  })

  it('is not counted toward the quorum: a quorum of 2 is not met', () => {
    const [rotated, steady] = [witness(true), witness(false)]
    const check = checkAuditNote(exported([rotated, steady], [rotated, steady]), { keys: [], quorum: 2 })
    expect(check.cosigners).toHaveLength(1)
    expect(check.ok).toBe(false)
    expect(check.problems.join('\n')).toMatch(/1 of the 2 cosignatures required/)
  })

  it('a doctored export whose only cosigner has a binding its DID did not sign does not verify', () => {
    const forged = witness(true)
    const check = checkAuditNote(exported([forged], [forged]), { keys: [], quorum: 1 })
    expect(check.cosigners).toHaveLength(0)
    expect(check.ok).toBe(false)
  })
})
