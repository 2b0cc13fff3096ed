import { afterAll, describe, expect, it } from 'vitest'
import {
  createCheckpoint,
  createRegistration,
  didKeyFromPublicKey,
  envelopeId,
  keyPairFromB64,
  peerIdFromPublicKey,
  toB64,
  MAX_TS,
} from '../../node/core/index.js'
import { createIdentity, loadIdentity, rotateIdentity, rotatedIdentityFile } from '../../node/identity/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { auditEntries, waitForMeshes } from './keys-fixture.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('a node rotates its own key (identity.json first, then the running node)', () => {
  let a: MeshNode | undefined
  let b: MeshNode | undefined
  const home = tempDir()
  afterAll(async () => {
    await stopAll([a, b])
    home.cleanup()
  })

  it('refuses a rotation its identity file does not hold; takes up the one it holds; peers learn it; the DID stays', async () => {
    createIdentity(home.dir)
    const before = loadIdentity(home.dir)
    a = await startNode({ identity: before, home: home.dir })
    b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    await waitForMeshes([a, b])
    await waitFor(() => b!.store.keyEvents.state(a!.did) !== undefined, { timeout: 15_000 })
    const oldPeerId = a.mesh.peerId
    const hosted = (await a.registerAgent('hosted', [{ type: 'analysis' }])).identity.did
    const sender = (await b.registerAgent('sender')).identity.did
    await waitFor(() => b!.agents.record(hosted)?.peerId === oldPeerId && a!.agents.record(sender) !== undefined, {
      timeout: 15_000,
    })

    // no envelope, or a rotation the file does not hold: refused, nothing changes
    await expect(a.rotateAgent({ did: a.did, authority: OPERATOR })).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const unsaved = rotatedIdentityFile(before).rotation
    await expect(a.rotateAgent({ did: a.did, envelope: unsaved, authority: OPERATOR })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    expect(a.store.keyEvents.state(a.did)!.seq).toBe(0)

    const { identity, rotation } = rotateIdentity(home.dir)
    const done = await a.rotateAgent({ did: a.did, envelope: rotation, authority: OPERATOR })
    expect(done).toMatchObject({ did: before.did, keySeq: 1, publicKey: identity.file.publicKey })
    expect(a.did).toBe(before.did)
    expect(a.info().didKey).toBe(didKeyFromPublicKey(identity.keyPair.publicKey))
    await waitFor(() => b!.store.keyEvents.state(a!.did)?.lastId === envelopeId(rotation), { timeout: 15_000 })
    expect(b.signerKey(a.did).publicKey).toEqual(identity.keyPair.publicKey)

    // the running node's mesh moved to the PeerId of the new key, rejoined its peer and re-registered its agents
    const newPeerId = peerIdFromPublicKey(identity.keyPair.publicKey)
    expect(a.mesh.peerId).toBe(newPeerId)
    expect(a.info()).toMatchObject({ peerId: newPeerId })
    await waitFor(() => b!.mesh.peers().some((p) => p.peerId === newPeerId), { timeout: 15_000 })
    await waitFor(() => b!.agents.record(hosted)?.peerId === newPeerId, { timeout: 15_000 })
    // a direct message from B to the agent A hosts reaches it at the new PeerId, receipt and all
    const sent = await b.sendMessage({ authority: OPERATOR, fromDid: sender, toDid: hosted, message: 'after the move' })
    await waitFor(() => b!.delivery(sent.id)?.state === 'delivered', { timeout: 15_000 })
    expect(a.store.messages.exists(sent.id)).toBe(true)
    expect(b.mesh.peers().some((p) => p.peerId === oldPeerId)).toBe(false)
    // and the DHT names the new PeerId as the provider of its agents' capability
    const found = await waitFor(
      async () => {
        const r = await b!.discoverNetwork('analysis')
        return r.remote.find((m) => m.record.did === hosted && m.provider === newPeerId)
      },
      { timeout: 15_000 },
    )
    expect(found.record).toMatchObject({ did: hosted, peerId: newPeerId })

    // its checkpoints are now signed with the new key and accepted by the peer
    const chk = await a.checkpoint()
    await waitFor(
      () => auditEntries(b!).some((e) => e.kind === 'envelope.accepted' && e.envelopeId === envelopeId(chk)),
      { timeout: 15_000 },
    )
    // one signed with the old key is a rotated-out key
    const stale = createCheckpoint(a.did, chk.size, Buffer.from(chk.root, 'base64'), Date.now(), before.keyPair)
    const v = await b.submitEnvelope(stale)
    expect(!v.ok && v.error.code).toBe('ROTATED_KEY')
  })
})

describe('a node rotated while stopped publishes the rotation when it starts (TCP, same database)', () => {
  let a: MeshNode | undefined
  let b: MeshNode | undefined
  const home = tempDir()
  afterAll(async () => {
    await stopAll([a, b])
    home.cleanup()
  })

  it('peers learn the rotation through sync; the PeerId follows the new key; the DID stays; hosted agents follow', async () => {
    createIdentity(home.dir)
    const dbPath = `${home.dir}/node.db`
    b = await startNode({ transports: 'tcp' })
    a = await startNode({
      transports: 'tcp',
      identity: loadIdentity(home.dir),
      home: home.dir,
      dbPath,
      peers: [b.info().multiaddrs[0]!],
    })
    const did = a.did
    const oldPeerId = a.mesh.peerId
    const hosted = (await a.registerAgent('hosted', [{ type: 'analysis' }])).identity.did
    await waitFor(() => b!.agents.record(hosted)?.peerId === oldPeerId, { timeout: 15_000 })
    await a.stop()

    const { identity } = rotateIdentity(home.dir)
    a = await startNode({ transports: 'tcp', identity, home: home.dir, dbPath, peers: [b.info().multiaddrs[0]!] })
    expect(a.did).toBe(did)
    expect(a.mesh.peerId).toBe(peerIdFromPublicKey(identity.keyPair.publicKey))
    expect(a.mesh.peerId).not.toBe(oldPeerId)
    await waitFor(() => b!.store.keyEvents.state(did)?.seq === 1, { timeout: 15_000 })
    expect(b.store.keyEvents.state(did)!.key).toBe(toB64(identity.keyPair.publicKey))
    expect(a.store.keyEvents.log(did)).toEqual(identity.file.keyLog)
    // the agent it hosts is registered again under the new PeerId, on both nodes
    expect(a.agents.record(hosted)).toMatchObject({ peerId: a.mesh.peerId, capabilities: [{ type: 'analysis' }] })
    await waitFor(() => b!.agents.record(hosted)?.peerId === a!.mesh.peerId, { timeout: 15_000 })
  })
})

describe('a registration of a hosted agent dated at the last representable ts, naming another PeerId', () => {
  let a: MeshNode | undefined
  const home = tempDir()
  afterAll(async () => {
    await stopAll([a])
    home.cleanup()
  })

  it('does not keep the node from starting again (whoever was given the agent key could sign it)', async () => {
    createIdentity(home.dir)
    const dbPath = `${home.dir}/node.db`
    a = await startNode({ transports: 'tcp', identity: loadIdentity(home.dir), home: home.dir, dbPath })
    const agent = (await a.registerAgent('pinned')).identity
    const init = { did: agent.did, name: 'pinned', capabilities: [], controller: a.did, peerId: 'elsewhere' }
    const pinned = createRegistration({ ...init, ts: MAX_TS }, keyPairFromB64(agent.privateKey))
    expect((await a.submitEnvelope(pinned)).ok).toBe(true)
    await a.stop()
    a = await startNode({ transports: 'tcp', identity: loadIdentity(home.dir), home: home.dir, dbPath })
    expect(a.info().mesh).toBe('ready')
    expect(a.agents.record(agent.did)).toMatchObject({ did: agent.did, status: 'active' })
  })
})
