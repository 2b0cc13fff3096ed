/**
 * Review h4 (decision 0090 addendum, 1f1b003): the addendum says "Registrations are recorded with no client
 * (`deliveredBy` null), as before", and AUDIT_KIND_DOCS gives `agent.registered` the data {name, controller,
 * capabilities}. But a registration sent with a signed rotation (`POST /agents/rotate-key {envelope,
 * registration}`, decision 0070) is ingested with the rotation's API source (key-service.ts rotateByEnvelope,
 * `ingestOrThrow(reg, source)`), so its `agent.registered` entry carries `via`, `deliveredBy: "api:<socket>"`,
 * `authority` and now the forwarded claim as `forwardedFor` too: a field its kind's documentation does not list,
 * and a client the decision says a registration never records. Trust does not count it (only envelope.accepted),
 * so this is a documentation/consistency finding. Fails now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRotation,
  generateKeyPair,
  type KeyState,
} from '../../node/core/index.js'
import type { AuditEntry } from '../../node/core/audit-entry.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('a registration sent with a rotation records no API client (decision 0090 addendum)', () => {
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
    // now: {name, controller, capabilities, via: "api", deliveredBy: "api:127.0.0.1", forwardedFor: "192.0.2.99",
    // authority: "envelope"}
    expect(registered[0]!.data.forwardedFor).toBeUndefined()
    expect(registered[0]!.data.deliveredBy ?? null).toBeNull()
  })
})
