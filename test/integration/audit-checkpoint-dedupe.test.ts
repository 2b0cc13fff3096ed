import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCheckpoint, didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

describe("another node's checkpoint delivered twice", () => {
  let node: MeshNode

  beforeAll(async () => {
    node = await startNode()
  })
  afterAll(() => stopAll([node]))

  it('is kept and audited once; the second delivery is a duplicate', async () => {
    const other = generateKeyPair()
    const chk = createCheckpoint(didFromPublicKey(other.publicKey), 12, new Uint8Array(32).fill(7), Date.now(), other)
    const before = node.store.auditEntries.count()
    const first = await node.submitEnvelope(chk, 'test')
    expect(first.ok).toBe(true)
    const again = await node.submitEnvelope(chk, 'test')
    expect(again.ok ? 'accepted' : again.error.code).toBe('DUPLICATE')
    expect(node.store.auditEntries.count()).toBe(before + 1)
    expect(node.store.auditEntries.remoteCheckpoints(chk.origin)).toHaveLength(1)
  })
})
