// Ingestion (node/services/ingest.ts) on an in-memory store: every envelope passes the acceptance
// rules (docs/protocol.md §7); an accepted one is committed with its audit entry, a refused one
// gets the error code of node/core/errors.ts, an audit entry, and changes nothing else.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  replayKeyEvents,
  type Envelope,
  type KeyState,
} from '../../../node/core/index.js'
import { auditEntries, kitAgent, kitNode, type KitAgent, type KitNode } from '../../helpers/service-kit.js'

let n: KitNode
let agent: KitAgent
const gossip = { kind: 'gossip', peer: 'peer-x' } as const

beforeEach(() => {
  n = kitNode()
  agent = kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x' })
})
afterEach(() => n.close())

/** Everything a refusal must leave as it was. */
function snapshot(): unknown {
  const { store } = n
  return {
    agents: store.agents.list(),
    messages: store.messages.total(),
    keys: store.keyEvents.allDids().map((d) => store.keyEvents.state(d)),
  }
}

function message(body: string, nonceByte: number, ts = n.clock.ms): Envelope {
  return createMessage({ from: agent.did, to: null, body, ts, nonce: new Uint8Array(16).fill(nonceByte) }, agent.key)
}

function register(): void {
  expect(n.ingest.ingest(agent.icp, gossip, { fresh: false }).ok).toBe(true)
  expect(n.ingest.ingest(agent.reg, gossip, { fresh: false }).ok).toBe(true)
}

describe('accepting', () => {
  it('commits an inception and a registration with their audit entries and events', () => {
    register()
    expect(n.store.keyEvents.state(agent.did)?.key).toBe(agent.icp.key)
    expect(n.store.agents.get(agent.did)).toMatchObject({
      name: 'agent',
      origin: 'remote',
      regId: envelopeId(agent.reg),
    })
    expect(auditEntries(n.store).map((e) => [e.kind, e.subject])).toEqual([
      ['envelope.accepted', agent.did],
      ['agent.registered', agent.did],
    ])
    expect(n.emitted.map((e) => e.type)).toEqual(['agent:registered'])
    expect(n.store.misc.peerFaults()).toEqual([{ peer: 'peer-x', forged: 0, accepted: 2 }])
  })

  it('commits a message from a registered agent and announces it as received', () => {
    register()
    const msg = message('hello', 1)
    const v = n.ingest.ingest(msg, gossip, { fresh: true })
    expect(v.ok).toBe(true)
    expect(n.store.messages.exists(envelopeId(msg))).toBe(true)
    expect(n.store.agents.get(agent.did)?.messagesSent).toBe(1)
    expect(auditEntries(n.store).at(-1)).toMatchObject({ kind: 'envelope.accepted', envelopeId: envelopeId(msg) })
    expect(n.emitted.at(-1)).toMatchObject({ type: 'message:received', data: { body: 'hello', source: 'gossip' } })
  })
})

describe('refusing', () => {
  it('refuses a message with a changed body as SIGNATURE_INVALID and charges the delivering peer', () => {
    register()
    const before = snapshot()
    const forged = { ...message('hello', 1), body: 'changed' }
    const v = n.ingest.ingest(forged, gossip, { fresh: true })
    expect(v.ok ? 'accepted' : v.error.code).toBe('SIGNATURE_INVALID')
    expect(snapshot()).toEqual(before)
    expect(auditEntries(n.store).at(-1)).toMatchObject({ kind: 'envelope.rejected', code: 'SIGNATURE_INVALID' })
    expect(n.store.misc.peerFaults()[0]?.forged).toBe(1)
    expect(n.emitted.at(-1)).toMatchObject({ type: 'message:rejected', data: { code: 'SIGNATURE_INVALID' } })
  })

  it('refuses a rotation of a DID whose key event log it does not know as UNKNOWN_SIGNER', () => {
    const before = snapshot()
    const rot = createRotation(replayKeyEvents([agent.icp]), agent.key, agent.next, n.clock.ms)
    const v = n.ingest.ingest(rot, gossip, { fresh: false })
    expect(v.ok ? 'accepted' : v.error.code).toBe('UNKNOWN_SIGNER')
    expect(snapshot()).toEqual(before)
    // from a peer not audited: anyone can mint them without end, unchecked (docs/protocol.md §7, "Renewals")
    expect(auditEntries(n.store)).toEqual([])
    const api = n.ingest.ingest(rot, { kind: 'api', peer: '127.0.0.1' }, { fresh: false })
    expect(api.ok ? 'accepted' : api.error.code).toBe('UNKNOWN_SIGNER')
    expect(auditEntries(n.store).map((e) => e.code)).toEqual(['UNKNOWN_SIGNER'])
  })

  it('refuses a reused nonce as REPLAY, a stale time as CLOCK_SKEW, and re-delivery as an unaudited DUPLICATE', () => {
    register()
    const first = message('one', 3)
    expect(n.ingest.ingest(first, gossip, { fresh: true }).ok).toBe(true)
    const entries = auditEntries(n.store).length
    const again = n.ingest.ingest(first, gossip, { fresh: true })
    expect(again.ok ? 'accepted' : again.error.code).toBe('DUPLICATE')
    expect(auditEntries(n.store)).toHaveLength(entries)
    const before = snapshot()
    const replay = n.ingest.ingest(message('two', 3), gossip, { fresh: true })
    expect(replay.ok ? 'accepted' : replay.error.code).toBe('REPLAY')
    const stale = n.ingest.ingest(message('old', 4, n.clock.ms - 10 * 60_000), gossip, { fresh: true })
    expect(stale.ok ? 'accepted' : stale.error.code).toBe('CLOCK_SKEW')
    expect(snapshot()).toEqual(before)
    expect(
      auditEntries(n.store)
        .slice(entries)
        .map((e) => e.code),
    ).toEqual(['REPLAY', 'CLOCK_SKEW'])
  })

  it('refuses input that is no envelope as MALFORMED and stores nothing', () => {
    const v = n.ingest.ingest({ type: 'msg', from: 42 }, gossip, { fresh: true })
    expect(v.ok ? 'accepted' : v.error.code).toBe('MALFORMED')
    expect(snapshot()).toEqual({ agents: [], messages: 0, keys: [] })
  })

  it('takes an old registration arriving after the rotation as history, and a newer one under the old key as ROTATED_KEY', () => {
    register()
    n.clock.advance(1_000)
    const rot = createRotation(replayKeyEvents([agent.icp]), agent.key, agent.next, n.clock.ms)
    const reg2 = createRegistration({ ...agent.reg, ts: n.clock.ms }, agent.next)
    expect(n.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    expect(n.ingest.ingest(reg2, gossip, { fresh: false }).ok).toBe(true)
    const before = snapshot()
    const entries = auditEntries(n.store).length
    // gossip's message cache hands over the registration signed before the rotation: not an alarm
    const late = n.ingest.ingest(agent.reg, gossip, { fresh: false })
    expect(late.ok ? 'accepted' : late.error.code).toBe('DUPLICATE')
    expect(auditEntries(n.store)).toHaveLength(entries)
    // a registration made after the rotation with the rotated-out key is refused and audited
    const forged = createRegistration({ ...agent.reg, name: 'after', ts: n.clock.ms + 1 }, agent.key)
    const v = n.ingest.ingest(forged, gossip, { fresh: false })
    expect(v.ok ? 'accepted' : v.error.code).toBe('ROTATED_KEY')
    expect(
      auditEntries(n.store)
        .map((e) => e.code)
        .slice(entries),
    ).toEqual(['ROTATED_KEY'])
    expect(snapshot()).toEqual(before)
    expect(n.store.agents.get(agent.did)?.regId).toBe(envelopeId(reg2))
  })

  it('refuses a registration signed by another key as SIGNATURE_INVALID, keeping the first', () => {
    register()
    const before = snapshot()
    const other = kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x' })
    const stolen = createRegistration(
      {
        did: agent.did,
        name: 'stolen',
        capabilities: [],
        controller: agent.reg.controller,
        peerId: 'p',
        ts: n.clock.ms + 1,
      },
      other.key,
    )
    const v = n.ingest.ingest(stolen, gossip, { fresh: false })
    expect(v.ok ? 'accepted' : v.error.code).toBe('SIGNATURE_INVALID')
    expect(snapshot()).toEqual(before)
    expect(n.store.agents.get(agent.did)?.name).toBe('agent')
  })
})

describe('a revocation by a controller this node does not know (decision 0069)', () => {
  /** The agent's inception and rotation are here, its registration (naming its controller) is not. */
  function rotatedWithoutRegistration(): KeyState {
    expect(n.ingest.ingest(agent.icp, gossip, { fresh: false }).ok).toBe(true)
    const rot = createRotation(replayKeyEvents([agent.icp]), agent.key, agent.next, n.clock.ms)
    const v = n.ingest.ingest(rot, gossip, { fresh: false })
    if (!v.ok || v.keyState === undefined) throw new Error('rotation refused')
    return v.keyState
  }
  const controllers = () => [0, 1, 2].map(() => generateKeyPair(n.random))

  it('one per DID from each peer is UNKNOWN_SIGNER: nothing changes, nothing audited, nobody charged', () => {
    const state = rotatedWithoutRegistration()
    const audited = auditEntries(n.store).length
    const before = snapshot()
    const [c1, c2] = controllers()
    const rev = createRevocation(state, c1!, 'retired', n.clock.ms)
    for (const source of [gossip, gossip, { kind: 'sync', peer: 'peer-y' } as const]) {
      const v = n.ingest.ingest(rev, source, { fresh: false })
      expect(v.ok ? 'accepted' : v.error.code).toBe('UNKNOWN_SIGNER')
    }
    const other = n.ingest.ingest(
      createRevocation(state, c2!, 'other', n.clock.ms),
      { kind: 'sync', peer: 'peer-z' },
      {
        fresh: false,
      },
    )
    expect(other.ok ? 'accepted' : other.error.code).toBe('UNKNOWN_SIGNER')
    expect(snapshot()).toEqual(before)
    expect(auditEntries(n.store)).toHaveLength(audited)
    expect(n.store.misc.peerFaults().every((f) => f.forged === 0)).toBe(true)
  })

  it('a second one of the same DID from the same peer is a forgery, charged to it (an honest peer holds one)', () => {
    const state = rotatedWithoutRegistration()
    const [c1, c2, c3] = controllers()
    n.ingest.ingest(createRevocation(state, c1!, 'first', n.clock.ms), gossip, { fresh: false })
    const second = n.ingest.ingest(createRevocation(state, c2!, 'second', n.clock.ms), gossip, { fresh: false })
    expect(second.ok ? 'accepted' : second.error.code).toBe('SIGNATURE_INVALID')
    expect(n.store.misc.peerFaults().find((f) => f.peer === 'peer-x')?.forged).toBe(1)
    expect(auditEntries(n.store).at(-1)).toMatchObject({ kind: 'envelope.rejected', code: 'SIGNATURE_INVALID' })
    // from the API it stays the client's refusal, whatever came before
    const api = n.ingest.ingest(
      createRevocation(state, c3!, 'third', n.clock.ms),
      { kind: 'api', peer: '127.0.0.1' },
      {
        fresh: false,
      },
    )
    expect(api.ok ? 'accepted' : api.error.code).toBe('UNKNOWN_SIGNER')
  })

  it('is taken once the registration naming its controller arrives', () => {
    const state = rotatedWithoutRegistration()
    const controller = generateKeyPair(n.random)
    const reg = createRegistration(
      {
        did: agent.did,
        name: 'agent',
        capabilities: [],
        controller: didFromPublicKey(controller.publicKey),
        peerId: 'peer-x',
        ts: n.clock.ms + 1,
      },
      agent.next,
    )
    const rev = createRevocation(state, controller, 'retired', n.clock.ms)
    expect(n.ingest.ingest(rev, gossip, { fresh: false }).ok).toBe(false)
    expect(n.ingest.ingest(reg, gossip, { fresh: false }).ok).toBe(true)
    expect(n.ingest.ingest(rev, gossip, { fresh: false }).ok).toBe(true)
    expect(n.store.keyEvents.state(agent.did)?.revoked?.by).toBe('controller')
  })
})
