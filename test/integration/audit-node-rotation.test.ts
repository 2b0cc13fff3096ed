/**
 * An audit export stays verifiable offline after the node rotated its own
 * key: the checkpoint over the export is signed with the current key, the
 * key event log in the export links that key to the node's DID, and the
 * export carries only checkpoints a verifier can check under that key.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { fromB64, toB64, verifyEnvelopeSignature } from '../../node/core/index.js'
import { createIdentity, loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { AuditReport } from '../../node/services/report-service.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('an export after the node rotated its key', () => {
  let a: MeshNode | undefined
  const home = tempDir()
  afterAll(async () => {
    await stopAll([a])
    home.cleanup()
  })

  it('verifies offline: checkpoint under the new key, linked to the DID by the key log', async () => {
    createIdentity(home.dir)
    a = await startNode({ identity: loadIdentity(home.dir), home: home.dir })
    const alice = (await a.registerAgent('alice', [])).identity.did
    await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: null, message: 'before the rotation' })
    const old = await a.checkpoint()
    const { identity, rotation } = rotateIdentity(home.dir)
    await a.rotateAgent({ did: a.did, envelope: rotation, authority: OPERATOR })
    await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: null, message: 'after the rotation' })

    const report = JSON.parse(JSON.stringify(a.auditExport())) as AuditReport
    expect(report.nodePublicKey).toBe(toB64(identity.keyPair.publicKey))
    expect(report.keyLog?.map((e) => e.type)).toEqual(['icp', 'rot'])
    const key = fromB64(report.nodePublicKey, 'key', 32)
    expect(() => verifyEnvelopeSignature(report.checkpoint, key)).not.toThrow()
    for (const c of report.checkpoints) expect(() => verifyEnvelopeSignature(c, key)).not.toThrow()
    expect(report.checkpoints.some((c) => c.size === old.size)).toBe(false) // signed by the old key: left out

    const check = checkAuditExport(report)
    expect(check.log.problems).toEqual([])
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
    expect(check.messagesChecked).toBe(2)
    // the old checkpoint is still the node's, and its proofs still work
    expect(a.audit.checkpointOf(old.size)).toEqual(old)
    expect(a.audit.consistency(old.size).firstRoot).toBe(old.root)
  })
})
