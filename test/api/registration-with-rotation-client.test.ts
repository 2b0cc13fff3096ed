/**
 * Review H4 F2: a registration sent with a signed rotation (`POST /agents/rotate-key {envelope,
 * registration}`, decision 0070) is ingested with the rotation's API source, so its `agent.registered`
 * entry names the rotation's client (`deliveredBy`, the forwarded claim apart as `forwardedFor`). The
 * documentation of the kind (AUDIT_KIND_DOCS, what `GET /audit/kinds` and docs/protocol.md §11 say) listed
 * only {name, controller, capabilities}; every field the entry carries is now documented, and the client is
 * the socket by its key (decision 0090 addenda).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRotation,
  generateKeyPair,
  type KeyState,
} from '../../node/core/index.js'
import { AUDIT_KIND_DOCS, type AuditEntry } from '../../node/core/audit-entry.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('a registration sent with a rotation (decision 0090 addenda)', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('POST /agents/rotate-key {envelope, registration} behind a trusted proxy', async () => {
    const { did: controller, peerId } = fx.node.info()
    const key = generateKeyPair()
    const next = generateKeyPair()
    const ts = Date.now()
    const icp = createInception(key, ts, next)
    const reg = createRegistration({ did: icp.did, name: 'own', capabilities: [], controller, peerId, ts }, key)
    await fx.node.registerExternalAgent(icp, reg)
    const state = fx.node.store.keyEvents.state(icp.did) as KeyState
    const rot = createRotation(state, key, next, Date.now(), generateKeyPair())
    const registration = createRegistration(
      { did: icp.did, name: 'own', capabilities: [], controller, peerId, ts: Date.now() },
      next,
    )
    const before = fx.node.store.auditEntries.count()
    const r = await fx.call(
      'POST',
      '/agents/rotate-key',
      { did: icp.did, envelope: rot, registration },
      { 'x-forwarded-for': '192.0.2.99' },
    )
    expect(r.status).toBe(200)
    const registered = fx.node.store.auditEntries
      .entries(before, 100)
      .map((e) => JSON.parse(e.entry) as AuditEntry)
      .filter((e) => e.kind === 'agent.registered')
    expect(registered).toHaveLength(1)
    // the rotation's client, by the socket's key, the claim apart
    expect(registered[0]!.data).toMatchObject({ deliveredBy: 'api:loopback', forwardedFor: '192.0.2.99' })
    // and every field it carries is one its kind's documentation names
    const doc = AUDIT_KIND_DOCS['agent.registered']
    for (const field of Object.keys(registered[0]!.data)) expect(doc).toContain(field)
  })
})
