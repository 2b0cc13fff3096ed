import { describe, expect, it } from 'vitest'
import { AuditLog, FRONTIER_SAVE_EVERY } from '../../node/audit/audit-log.js'
import { merkleRoot } from '../../node/core/index.js'
import { openStore, type Store } from '../../node/store/index.js'
import { TrustService } from '../../node/services/trust.js'
import { tempDir } from '../helpers/mesh.js'

const DID = 'did:msig:7Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'

function appendMany(store: Store, log: AuditLog, n: number): void {
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      log.append({
        kind: 'handshake',
        subject: DID,
        code: i % 3 === 0 ? 'SIGNATURE_INVALID' : null,
        data: { ok: i % 3 !== 0 },
      })
    }
  })
}

function rootOfLeaves(store: Store): Buffer {
  return Buffer.from(merkleRoot((i) => store.auditEntries.leafHash(i), store.auditEntries.count()))
}

describe('the audit log across restarts', () => {
  it('restores its Merkle root and trust evidence when the last saved frontier is behind the entries', () => {
    const { dir, cleanup } = tempDir()
    const path = `${dir}/node.db`
    try {
      let store = openStore({ path })
      let log = new AuditLog(store, () => 1)
      // past one save and into the next stretch, so the reopened log must add unsaved leaves
      appendMany(store, log, FRONTIER_SAVE_EVERY + 37)
      const trust = new TrustService(store).report()
      const frontier = JSON.parse(store.misc.meta('audit.frontier') ?? '{}') as { size?: number }
      expect(frontier.size).toBe(FRONTIER_SAVE_EVERY)
      store.close()

      store = openStore({ path })
      log = new AuditLog(store, () => 1)
      expect(Buffer.from(log.head().root)).toEqual(rootOfLeaves(store))
      expect(new TrustService(store).report()).toEqual(trust)
      appendMany(store, log, 5)
      expect(log.head().size).toBe(FRONTIER_SAVE_EVERY + 42)
      expect(Buffer.from(log.head().root)).toEqual(rootOfLeaves(store))
      store.close()
    } finally {
      cleanup()
    }
  })

  it('keeps the root true after a rolled-back append', () => {
    const { dir, cleanup } = tempDir()
    try {
      const store = openStore({ path: `${dir}/node.db` })
      const log = new AuditLog(store, () => 1)
      appendMany(store, log, 10)
      expect(() =>
        store.transaction(() => {
          appendMany(store, log, 3)
          throw new Error('abort')
        }),
      ).toThrow('abort')
      expect(log.head().size).toBe(10)
      expect(Buffer.from(log.head().root)).toEqual(rootOfLeaves(store))
      appendMany(store, log, 2)
      expect(Buffer.from(log.head().root)).toEqual(rootOfLeaves(store))
      store.close()
    } finally {
      cleanup()
    }
  })
})
