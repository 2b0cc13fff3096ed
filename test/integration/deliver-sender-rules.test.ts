/**
 * Direct delivery takes gossip's sender rules (docs/protocol.md §7, §10;
 * attack review 91, F3; decision 0062). A rogue libp2p peer delivers over
 * `/meshsig/deliver/1.0.0` to an agent the node hosts. Messages signed by
 * DIDs that never registered are refused `UNKNOWN_SIGNER` (before: 300 of
 * them gave 300 receipts, 300 stored messages and 600 audit entries), and
 * the node pulls the registry of the delivering peer. Forgeries are audited
 * within the refusal budget gossip has (before: 100 of 100). A sender DID
 * has one budget a window over gossip and delivery. A sender whose
 * registration was on its way hears the node's presence once it arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  createRegistration,
  didFromPublicKey,
  encodeEnvelope,
  generateKeyPair,
  type Envelope,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { PRESENCE_TOPIC, type MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry, rogueP2P } from './flood-rogue.js'

/** A sender DID's budget of the window (over gossip and delivery), small for the test. */
const PER_DID = 8

let a: MeshNode
let rogue: MeshP2P
/** Registry pulls the node made from the rogue, and the presence announcements the rogue heard from it. */
const heard = { pulls: 0, presences: 0 }

beforeAll(async () => {
  a = await startNode({ init: { limits: { relay: { perDidMessages: PER_DID } } } })
  rogue = await rogueP2P('deliver-sender', {
    syncProvider: (request) => {
      heard.pulls++
      return emptyRegistry(request)
    },
    onMessage: (topic, _data, from) => {
      if (topic === PRESENCE_TOPIC && from === a.mesh.peerId) heard.presences++
    },
  })
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers('meshsig/v1/registry').includes(a.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

/** A direct message from `from` (signed with `key`) to `to`. */
function message(key: KeyPair, from: string, to: string, body: string): Envelope {
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  return createMessage({ from, to, body, ts: Date.now(), nonce }, key)
}

/** Deliver `env` from the rogue: the receipt, or the refusal's code. */
async function deliver(env: Envelope): Promise<string> {
  const answer = JSON.parse(Buffer.from(await rogue.deliver(a.mesh.peerId, encodeEnvelope(env))).toString()) as {
    receipt?: unknown
    refused?: { code: string }
  }
  return answer.receipt !== undefined ? 'receipt' : (answer.refused?.code ?? 'none')
}

/** A DID's inception and registration, signed (gossip them to register it). */
function signedRegistration(name: string): { key: KeyPair; did: string; envelopes: Envelope[] } {
  const key = generateKeyPair()
  const icp = createInception(key, Date.now())
  const reg = createRegistration(
    { did: icp.did, name, capabilities: [], controller: icp.did, peerId: rogue.peerId, ts: Date.now() },
    key,
  )
  return { key, did: icp.did, envelopes: [icp, reg] }
}

/** Gossip `envelopes` (a registration) from the rogue and wait until the node stores its agent. */
async function register(did: string, envelopes: readonly Envelope[]): Promise<void> {
  for (const e of envelopes) await rogue.publish('meshsig/v1/registry', encodeEnvelope(e))
  await waitFor(() => a.store.agents.get(did), { timeout: 15_000, message: `${did} registered` })
}

/** Messages the node stores for `to`. */
function storedFor(to: string): number {
  return a.store.messages.list({ limit: 10_000 }).filter((m) => m.envelope.to === to).length
}

describe('direct delivery takes the sender rules of gossip', () => {
  it('messages from never-registered DIDs are refused UNKNOWN_SIGNER: nothing stored, audited or receipted', async () => {
    const inbox = (await a.registerAgent('inbox')).identity.did
    const before = a.store.auditEntries.count()
    const pullsBefore = heard.pulls
    const codes = new Map<string, number>()
    for (let i = 0; i < 300; i++) {
      const key = generateKeyPair() // a fresh DID per message: no registration, no key log
      const code = await deliver(message(key, didFromPublicKey(key.publicKey), inbox, 'x'.repeat(12 * 1024)))
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
    expect([...codes]).toEqual([['UNKNOWN_SIGNER', 300]])
    expect(storedFor(inbox)).toBe(0)
    expect(a.store.auditEntries.count() - before).toBe(0)
    // the registration may be on its way: the node pulls the registry of the peer that delivered
    await waitFor(() => heard.pulls > pullsBefore, { message: 'a registry pull from the delivering peer' })
  }, 120_000)

  it('forgeries in a registered DID’s name are audited within the refusal budget gossip has', async () => {
    const inbox = (await a.registerAgent('inbox-2')).identity.did
    const claimed = signedRegistration('claimed')
    await register(claimed.did, claimed.envelopes)
    const before = a.store.auditEntries.count()
    const codes = new Set<string>()
    for (let i = 0; i < 100; i++)
      codes.add(await deliver(message(generateKeyPair(), claimed.did, inbox, `forged ${i}`)))
    expect([...codes]).toEqual(['SIGNATURE_INVALID'])
    const audited = a.store.auditEntries.count() - before
    expect(audited).toBeGreaterThan(0)
    expect(audited).toBeLessThanOrEqual(61) // limits.gossip.auditedRefusalsPerWindow and one summary (decision 0053)
    expect(storedFor(inbox)).toBe(0)
  }, 120_000)

  it('a sender has one budget a window over gossip and delivery; forgeries in its name spend none of it', async () => {
    const inbox = (await a.registerAgent('inbox-3')).identity.did
    const sender = signedRegistration('sender')
    await register(sender.did, sender.envelopes)
    for (let i = 0; i < 20; i++) await deliver(message(generateKeyPair(), sender.did, inbox, `forged ${i}`))
    const gossiped = 5
    for (let i = 0; i < gossiped; i++) {
      const body = `broadcast ${i}`
      const nonce = crypto.getRandomValues(new Uint8Array(16))
      const msg = createMessage({ from: sender.did, to: null, body, ts: Date.now(), nonce }, sender.key)
      await rogue.publish('meshsig/v1/messages', encodeEnvelope(msg))
      await waitFor(() => a.store.messages.list({ limit: 1000 }).some((m) => m.envelope.body === body))
    }
    const codes: string[] = []
    for (let i = 0; i < 5; i++) codes.push(await deliver(message(sender.key, sender.did, inbox, `direct ${i}`)))
    const left = PER_DID - gossiped
    expect(codes).toEqual([...Array<string>(left).fill('receipt'), ...Array<string>(5 - left).fill('RATE_LIMITED')])
    expect(storedFor(inbox)).toBe(left)
  }, 60_000)

  it('a sender whose registration was on its way hears the node’s presence when it arrives, and is receipted', async () => {
    const inbox = (await a.registerAgent('inbox-4')).identity.did
    const late = signedRegistration('late')
    const msg = message(late.key, late.did, inbox, 'sent before my registration arrived')
    expect(await deliver(msg)).toBe('UNKNOWN_SIGNER')
    const presences = heard.presences
    await register(late.did, late.envelopes)
    await waitFor(() => heard.presences > presences, { message: 'the node announced its presence' })
    expect(await deliver(msg)).toBe('receipt')
    expect(storedFor(inbox)).toBe(1)
  }, 60_000)
})
