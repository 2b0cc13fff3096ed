import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifyPool } from '../../api/verify-pool.js'
import { generateKeyPair, keyPairFromSeed, toB64, verifySignature } from '../../node/core/index.js'
import { signedHere } from '../../node/core/signed-here.js'
import type { NodeEvent } from '../../node/events.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { KeyPairCache } from '../../node/services/key-cache.js'
import { SignPool } from '../../node/services/sign-pool.js'
import { BatchWorkerPool } from '../../node/services/worker-pool.js'
import { startNode, stopAll } from '../helpers/mesh.js'

describe('worker pools', () => {
  it('SignPool signs like the key itself, in batches and after close', async () => {
    const pool = new SignPool(1, new KeyPairCache())
    const keys = Array.from({ length: 5 }, () => generateKeyPair())
    const data = keys.map((_, i) => Buffer.from(`message ${i}`))
    const sigs = await Promise.all(keys.flatMap((k, i) => [pool.sign(k.seed, data[i]!), pool.sign(k.seed, data[i]!)]))
    sigs.forEach((s, j) => expect(toB64(s)).toBe(toB64(keys[Math.floor(j / 2)]!.sign(data[Math.floor(j / 2)]!))))
    await pool.close()
    expect(toB64(await pool.sign(keys[0]!.seed, data[0]!))).toBe(toB64(keys[0]!.sign(data[0]!)))
  })

  it('SignPool derives new keys on its threads, and remembers only their own signatures as made here', async () => {
    const pool = new SignPool(1)
    const seeds = Array.from({ length: 4 }, () => generateKeyPair().seed)
    const publicKeys = await Promise.all(seeds.map((s) => pool.publicKey(s)))
    expect(pool.threads()).toBe(1)
    publicKeys.forEach((k, i) => expect(toB64(k)).toBe(toB64(keyPairFromSeed(seeds[i]!).publicKey)))
    const data = Buffer.from('first words of a new key')
    const sigs = await Promise.all(seeds.map((s) => pool.sign(s, data)))
    sigs.forEach((sig, i) => {
      expect(verifySignature(data, sig, publicKeys[i]!)).toBe(true)
      expect(signedHere(publicKeys[i]!, data, sig)).toBe(true)
      // the memo names the key and the bytes: another key or other bytes are not "signed here"
      expect(signedHere(publicKeys[(i + 1) % 4]!, data, sig)).toBe(false)
      expect(signedHere(publicKeys[i]!, Buffer.from('other bytes'), sig)).toBe(false)
    })
    await pool.close()
  })

  it('the verification pool answers true and false correctly, batched, and inline after close', async () => {
    const pool = createVerifyPool(1)
    const key = generateKeyPair()
    const data = Buffer.from('hello')
    const sig = key.sign(data)
    const bad = new Uint8Array(sig)
    bad[0] = bad[0]! ^ 1
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.verify(data, i % 2 ? bad : sig, key.publicKey)),
    )
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i % 2 === 0))
    expect(await pool.verify(data, sig, generateKeyPair().publicKey)).toBe(false)
    await pool.close()
    expect(await pool.verify(data, sig, key.publicKey)).toBe(true)
  })

  it('a pool stops its threads after a quiet spell and starts them again with the next batch', async () => {
    const source = `const { parentPort } = require('node:worker_threads')
parentPort.on('message', ({ id, count, buffer }) => {
  const out = new Uint8Array(buffer).map((x) => x * 2)
  parentPort.postMessage({ id, out }, [out.buffer])
})`
    const codec = {
      source,
      pack: (jobs: readonly number[]) => Uint8Array.from(jobs).buffer,
      unpack: (out: Uint8Array, i: number) => out[i]!,
      inline: (j: number) => j * 2,
    }
    const pool = new BatchWorkerPool<number, number>(1, codec, 50)
    const batch = (): Promise<number[]> => Promise.all([1, 2, 3].map((j) => pool.run(j)))
    expect(await batch()).toEqual([2, 4, 6])
    expect(pool.threads()).toBe(1)
    while (pool.threads() > 0) await new Promise((r) => setTimeout(r, 20))
    expect(await batch()).toEqual([2, 4, 6])
    expect(pool.threads()).toBe(1)
    await pool.close()
    expect(pool.threads()).toBe(0)
  })
})

describe('group commit of sends', () => {
  let node: MeshNode
  beforeAll(async () => {
    node = await startNode()
  })
  afterAll(() => stopAll([node]))

  it('concurrent sends commit together; one failure does not affect the others; events come after commit', async () => {
    const a = await node.registerAgent('a')
    const b = await node.registerAgent('b')
    const events: NodeEvent[] = []
    const stop = node.events.subscribe((e) => events.push(e))
    const ok = (i: number) =>
      node.sendMessage({ fromDid: a.identity.did, toDid: b.identity.did, message: `m${i}`, authority: OPERATOR })
    const bad = node.sendMessage({
      fromDid: a.identity.did,
      toDid: b.identity.did,
      message: 'x',
      privateKey: toB64(generateKeyPair().seed),
    })
    const results = await Promise.allSettled([ok(1), bad, ok(2), ok(3)])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('KEY_MISMATCH')
    expect(node.store.messages.total()).toBe(3)
    expect(events.filter((e) => e.type === 'message:signed').map((e) => e.data.body)).toEqual(['m1', 'm2', 'm3'])
    stop()
  })

  it('events.deferred holds events until the work returns and drops them when it throws', () => {
    const seen: string[] = []
    const stop = node.events.subscribe((e) => seen.push(e.type))
    node.events.deferred(() => {
      node.events.emit('peer:connected', { peerId: 'x' })
      expect(seen).toEqual([])
    })
    expect(seen).toEqual(['peer:connected'])
    expect(() =>
      node.events.deferred(() => {
        node.events.emit('peer:disconnected', { peerId: 'x' })
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(seen).toEqual(['peer:connected'])
    stop()
  })
})
