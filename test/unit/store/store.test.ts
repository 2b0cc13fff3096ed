import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  merkleRoot,
  replayKeyEvents,
} from '../../../node/core/index.js'
import { AuditLog } from '../../../node/audit/audit-log.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore, WAL_CHECKPOINT_PAGES, type Store } from '../../../node/store/index.js'
import { PEER_FAULT_ROWS } from '../../../node/store/misc-repo.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function fileStore(): { store: Store; path: string; dir: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/sub/meshsig.db`
  const store = openStore({ path })
  cleanups.unshift(() => store.close())
  return { store, path, dir }
}

describe('the SQLite store', () => {
  it('creates its file 0600 in a 0700 folder, in WAL mode, at the latest schema version', () => {
    const { store, path } = fileStore()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700)
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
  })

  it('reopens an existing database without re-running migrations, keeping its data', () => {
    const { store, path } = fileStore()
    const key = generateKeyPair()
    const icp = createInception(key, 1000)
    store.keyEvents.append(icp, envelopeId(icp), replayKeyEvents([icp]), 1000)
    store.close()
    const again = openStore({ path })
    try {
      expect(again.schemaVersion()).toBe(MIGRATIONS.length)
      expect(again.keyEvents.log(icp.did)).toEqual([icp])
      expect(again.keyEvents.state(icp.did)?.key).toBe(icp.key)
    } finally {
      again.close()
    }
  })

  it('a failed transaction leaves nothing behind: message, nonce and audit entry together or not at all', () => {
    const { store } = fileStore()
    const log = new AuditLog(store, () => 5000)
    const key = generateKeyPair()
    const msg = createMessage(
      { from: didFromPublicKey(key.publicKey), to: null, body: 'x', ts: 5000, nonce: new Uint8Array(16) },
      key,
    )
    expect(() =>
      store.transaction(() => {
        store.messages.add(envelopeId(msg), msg, 'api', 5000)
        log.append({ kind: 'envelope.accepted', subject: msg.from, data: { type: 'msg' } })
        throw new Error('crash between the writes')
      }),
    ).toThrow('crash between the writes')
    expect(store.messages.exists(envelopeId(msg))).toBe(false)
    expect(store.messages.nonceSeen(msg.from, msg.nonce)).toBe(false)
    expect(log.size()).toBe(0)
    // the Merkle frontier rolled back with the entries: the next append starts at index 0 again
    const entry = log.append({ kind: 'peer.joined', data: { peerId: 'p' } })
    expect(entry.index).toBe(0)
    expect(log.head().root).toEqual(merkleRoot([store.auditEntries.leafHash(0)]))
  })

  it('the audit root kept incrementally equals the root recomputed from every stored leaf', () => {
    const { store, path } = fileStore()
    const log = new AuditLog(store, () => 7000)
    for (let i = 0; i < 37; i++) log.append({ kind: 'peer.joined', data: { peerId: `peer-${i}` } })
    const leaves = Array.from({ length: 37 }, (_, i) => store.auditEntries.leafHash(i))
    expect(log.head()).toEqual({ size: 37, root: merkleRoot(leaves) })
    store.close()
    const reopened = openStore({ path })
    cleanups.unshift(() => reopened.close())
    const log2 = new AuditLog(reopened, () => 8000)
    expect(log2.head().root).toEqual(merkleRoot(leaves))
    log2.append({ kind: 'peer.left', data: { peerId: 'peer-0' } })
    expect(log2.head().root).toEqual(merkleRoot([...leaves, reopened.auditEntries.leafHash(37)]))
  })

  it('counts each stored message once on each end: sender, recipient, a self-addressed one on both, a broadcast on its sender', () => {
    const { store } = fileStore()
    const agent = (did: string): void =>
      store.agents.upsert({
        ...{ did, name: did, capabilities: [], controller: 'did:msig:node', peerId: 'p', origin: 'local' },
        ...{ regId: did, regEnvelope: '{}', regTs: 1, createdAt: 1, lastSeenAt: 1 },
      })
    agent('did:msig:a')
    agent('did:msig:b')
    agent('did:msig:c')
    store.agents.countMessage('did:msig:a', 'did:msig:b', 50)
    store.agents.countMessage('did:msig:a', 'did:msig:a', 40)
    store.agents.countMessage('did:msig:b', null, 60)
    const counts = (did: string): unknown => {
      const r = store.agents.get(did)!
      return [r.messagesSent, r.messagesReceived, r.lastSeenAt]
    }
    expect(counts('did:msig:a')).toEqual([2, 1, 50])
    expect(counts('did:msig:b')).toEqual([1, 1, 60])
    expect(counts('did:msig:c')).toEqual([0, 0, 1])
  })

  it('counts messages in a transaction once per agent at COMMIT: reads see them, a rolled-back savepoint drops its own, an agent unknown when counted gets none', () => {
    const { store } = fileStore()
    const agent = (did: string, lastSeenAt = 1): void =>
      store.agents.upsert({
        ...{ did, name: did, capabilities: [], controller: 'did:msig:node', peerId: 'p', origin: 'local' },
        ...{ regId: did, regEnvelope: '{}', regTs: 1, createdAt: 1, lastSeenAt },
      })
    const counts = (did: string): unknown => {
      const r = store.agents.get(did)
      return r && [r.messagesSent, r.messagesReceived, r.lastSeenAt]
    }
    agent('did:msig:a')
    agent('did:msig:b')
    store.transaction(() => {
      store.agents.countMessage('did:msig:a', 'did:msig:b', 50)
      store.transaction(() => store.agents.countMessage('did:msig:a', 'did:msig:b', 70)) // released: kept
      expect(() =>
        store.transaction(() => {
          store.agents.countMessage('did:msig:a', 'did:msig:b', 90)
          throw new Error('rolled back')
        }),
      ).toThrow('rolled back')
      store.agents.countMessage('did:msig:b', 'did:msig:new', 60) // not registered yet: counts nothing …
      agent('did:msig:new', 55) // … even once it is, in the same transaction
      expect(counts('did:msig:a')).toEqual([2, 0, 70]) // reads inside the transaction see what is counted
      expect(store.agents.list().find((r) => r.did === 'did:msig:b')?.messagesReceived).toBe(2)
    })
    expect(counts('did:msig:a')).toEqual([2, 0, 70])
    expect(counts('did:msig:b')).toEqual([1, 2, 70])
    expect(counts('did:msig:new')).toEqual([0, 0, 55])
    expect(() =>
      store.transaction(() => {
        store.agents.countMessage('did:msig:a', null, 80)
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(counts('did:msig:a')).toEqual([2, 0, 70])
  })

  it('the replay cache forgets only nonces older than the window', () => {
    const { store } = fileStore()
    const key = generateKeyPair()
    const from = didFromPublicKey(key.publicKey)
    for (const ts of [1000, 2000, 3000]) {
      const m = createMessage({ from, to: null, body: String(ts), ts, nonce: new Uint8Array(16).fill(ts / 1000) }, key)
      store.messages.add(envelopeId(m), m, 'api', ts)
    }
    expect(store.messages.pruneReplay(2500)).toBe(2)
    expect(store.messages.nonceSeen(from, Buffer.alloc(16, 3).toString('base64'))).toBe(true)
    expect(store.messages.nonceSeen(from, Buffer.alloc(16, 1).toString('base64'))).toBe(false)
    expect(store.messages.total()).toBe(3)
  })

  it('checkpoints its WAL every WAL_CHECKPOINT_PAGES pages while open: the WAL stays bounded, the data reaches the database', () => {
    const { store, path } = fileStore()
    const frame = 4096 + 24
    const envelope = 'x'.repeat(3000) // about one page per row
    let maxWal = 0
    for (let t = 0; t < 240; t++) {
      store.transaction(() => {
        for (let i = 0; i < 50; i++) {
          const id = `m-${t}-${i}`
          store.outbox.enqueue({ id, to: 'did:msig:to', envelope, now: t, expiresAt: t + 1 })
        }
      })
      maxWal = Math.max(maxWal, statSync(`${path}-wal`).size)
    }
    // about 48 MB written: checkpoints ran, not after every transaction …
    expect(statSync(path).size).toBeGreaterThan(24 * 1024 * 1024)
    expect(maxWal).toBeGreaterThan((WAL_CHECKPOINT_PAGES / 2) * frame)
    // … nor later than WAL_CHECKPOINT_PAGES plus the last transaction's pages
    expect(maxWal).toBeLessThan((WAL_CHECKPOINT_PAGES + 200) * frame)
  })
})

describe('peer fault counts', () => {
  it('keep the newest 10,000 peers first seen, however many peer ids a rogue mints, and add up per peer', () => {
    const store = openStore({ path: ':memory:' })
    cleanups.push(() => store.close())
    store.misc.peerFault('honest', { accepted: 1 })
    store.misc.peerFault('honest', { accepted: 2, forged: 1 })
    expect(store.misc.peerFaults()).toEqual([{ peer: 'honest', forged: 1, accepted: 3 }])
    store.transaction(() => {
      for (let i = 0; i < 3 * PEER_FAULT_ROWS; i++) store.misc.peerFault(`minted-${i}`, { forged: 1 })
    })
    const peers = store.misc.peerFaults().map((f) => f.peer)
    expect(peers.length).toBeGreaterThanOrEqual(PEER_FAULT_ROWS)
    expect(peers.length).toBeLessThanOrEqual(PEER_FAULT_ROWS + 256)
    expect(peers).toContain(`minted-${3 * PEER_FAULT_ROWS - 1}`)
    expect(peers).not.toContain('honest')
  })
})

describe('metadata by prefix', () => {
  it('counts and lists the keys of one prefix only, and deletes one key', () => {
    const store = openStore({ path: ':memory:' })
    cleanups.push(() => store.close())
    for (const key of ['witness.state.a', 'witness.state.b', 'witness.stateX', 'witness.state', 'witness.statf.c'])
      store.misc.setMetaValue(key, key.toUpperCase())
    expect(store.misc.countMeta('witness.state.')).toBe(2)
    expect(store.misc.metaWithPrefix('witness.state.')).toEqual([
      { key: 'witness.state.a', value: 'WITNESS.STATE.A' },
      { key: 'witness.state.b', value: 'WITNESS.STATE.B' },
    ])
    store.misc.deleteMeta('witness.state.a')
    store.misc.deleteMeta('witness.state.none')
    expect(store.misc.metaWithPrefix('witness.state.').map((r) => r.key)).toEqual(['witness.state.b'])
    expect(store.misc.meta('witness.stateX')).toBe('WITNESS.STATEX')
  })
})
