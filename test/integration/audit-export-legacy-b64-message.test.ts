/**
 * Review 106 L1 (decision 0073): a message whose nonce is in a second base64
 * spelling (only its signer can make one) was accepted and audited by an
 * honest node before the canonical-base64 rule. `meshsig audit verify`
 * (checkAuditExport -> checkMessage) reported the honest node's export as
 * broken from then on. The stored message's shape is now checked with the
 * rule in force when it was accepted; its id and signature still are checked
 * on the text as stored (docs/audit.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { createMessage, signEnvelope, type MsgEnvelope } from '../../node/core/index.js'
import { beforeTheRule, beforeTheRuleAsync, respelt } from '../helpers/legacy-b64.js'
import { auditScene, nonce, post, type AuditScene } from './audit-fixture.js'

let scene: AuditScene
beforeAll(async () => {
  scene = await auditScene()
}, 120_000)
afterAll(async () => {
  await scene?.stop()
})

describe('an export holding a message taken before decision 0073', () => {
  it('still verifies', async () => {
    const { fx, carol, alice } = scene
    // the version before the rule: the node takes it
    const { sig: _s, ...m } = createMessage(
      { from: carol.did, to: alice, body: 'hi', ts: Date.now(), nonce: nonce() },
      carol.key,
    )
    const odd = beforeTheRule(() => signEnvelope<MsgEnvelope>({ ...m, nonce: respelt(m.nonce) }, carol.key))
    await beforeTheRuleAsync(() => post(fx, '/messages/send', { envelope: odd }))
    // upgraded: a checkpoint and an export, verified by what `meshsig audit verify` runs
    await post(fx, '/audit/checkpoint', undefined, 201)
    const doc = await (await fetch(`${fx.url}/audit/export`)).json()
    const check = checkAuditExport(doc)
    expect([...check.problems.map((p) => p.message), ...check.log.problems.map((p) => p.message)]).toEqual([])
  }, 120_000)
})
