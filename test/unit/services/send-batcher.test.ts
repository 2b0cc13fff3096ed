// Group commit of sends (node/services/send-batcher.ts) over real ingestion on an in-memory
// store: the sends of one event-loop turn share one transaction, each is checked as if alone
// (one refusal poisons no other), callers are answered in order once the batch committed,
// and events are heard only once the commit is durable.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMessage, type Envelope } from '../../../node/core/index.js'
import { MeshsigError } from '../../../node/core/errors.js'
import { SendBatcher } from '../../../node/services/send-batcher.js'
import type { Store } from '../../../node/store/index.js'
import { kitAgent, kitNode, type KitAgent, type KitNode } from '../../helpers/service-kit.js'

let n: KitNode
let a: KitAgent
let commits: number
/** The node's store, counting the group commits (each is one durable commit). */
let counted: Pick<Store, 'groupCommit'>

beforeEach(() => {
  n = kitNode()
  a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId })
  for (const e of [a.icp, a.reg]) n.ingest.ingest(e, { kind: 'local' }, { fresh: false })
  commits = 0
  counted = {
    groupCommit: <T>(fn: () => T) => {
      commits++
      return n.store.groupCommit(fn)
    },
  }
})
afterEach(() => n.close())

function msg(body: string, nonce: number): Envelope {
  return createMessage({ from: a.did, to: null, body, ts: n.clock.ms, nonce: new Uint8Array(16).fill(nonce) }, a.key)
}

/** Each outcome as a caller sees it: 'ok' or the refusal's code. */
function codes(results: PromiseSettledResult<string>[]): string[] {
  return results.map((r) => {
    if (r.status === 'fulfilled') return 'ok'
    return r.reason instanceof MeshsigError ? r.reason.code : String(r.reason)
  })
}

/** The node's acceptance path as a batcher's send: the envelope's id, or the refusal's MeshsigError thrown. */
function acceptOrThrow(e: Envelope): string {
  const v = n.ingest.ingest(e, { kind: 'api', peer: 'test' }, { fresh: true })
  if (!v.ok) throw v.error
  return v.id
}

/** A batcher whose send is the node's acceptance path (throws the refusal's MeshsigError). */
function batcher(maxBatch?: number): SendBatcher<Envelope, string> {
  return new SendBatcher<Envelope, string>({
    store: counted,
    events: n.events,
    ...(maxBatch !== undefined ? { maxBatch } : {}),
    send: acceptOrThrow,
  })
}

describe('send batching', () => {
  it('commits the sends of one turn in one transaction and answers each in order', async () => {
    const b = batcher()
    const ids = await Promise.all([1, 2, 3, 4].map((i) => b.send(msg(`m${i}`, i))))
    expect(commits).toBe(1)
    expect(new Set(ids).size).toBe(4)
    const stored = n.store.messages.list({}).map((m) => m.id)
    expect([...stored].sort()).toEqual([...ids].sort())
    const signed = n.emitted.filter((e) => e.type === 'message:signed').map((e) => e.data.body)
    expect(signed).toEqual(['m1', 'm2', 'm3', 'm4'])
  })

  it('refuses one bad send with its own code and still commits the others', async () => {
    const b = batcher()
    const good = msg('good', 1)
    const forged = { ...msg('forged', 2), body: 'changed after signing' }
    const replay = msg('same nonce as good', 1)
    const results = await Promise.allSettled([b.send(good), b.send(forged), b.send(replay), b.send(msg('late', 3))])
    expect(codes(results)).toEqual(['ok', 'SIGNATURE_INVALID', 'REPLAY', 'ok'])
    expect(commits).toBe(1)
    expect(n.store.messages.total()).toBe(2)
  })

  it('holds events back until the batch has committed', async () => {
    const b = batcher()
    const heard: number[] = []
    n.events.subscribe(() => heard.push(n.store.messages.total()))
    await Promise.all([b.send(msg('x', 1)), b.send(msg('y', 2))])
    expect(heard).toEqual([2, 2])
  })

  it('splits a turn larger than maxBatch into several commits, keeping the order', async () => {
    const b = batcher(2)
    const ids = await Promise.all([1, 2, 3, 4, 5].map((i) => b.send(msg(`m${i}`, i))))
    expect(commits).toBe(3)
    const signed = n.emitted.filter((e) => e.type === 'message:signed').map((e) => e.data.id)
    expect(signed).toEqual(ids)
  })

  it('rejects every send of a batch whose commit fails, and none of them is stored or announced', async () => {
    const failing = new SendBatcher<Envelope, string>({
      store: {
        groupCommit: <T>(fn: () => T) =>
          n.store.groupCommit((): T => {
            fn()
            throw new MeshsigError('INTERNAL', 'disk full')
          }),
      },
      events: n.events,
      send: acceptOrThrow,
    })
    const before = n.emitted.length
    const results = await Promise.allSettled([failing.send(msg('a', 1)), failing.send(msg('b', 2))])
    expect(codes(results)).toEqual(['INTERNAL', 'INTERNAL'])
    expect(n.store.messages.total()).toBe(0)
    expect(n.emitted.length).toBe(before)
  })

  it('answers no caller and announces nothing until the commit is synced, and fails them all if the sync fails', async () => {
    let sync!: { resolve: () => void; reject: (e: Error) => void }
    const slowDisk = new SendBatcher<Envelope, string>({
      store: {
        groupCommit: <T>(fn: () => T) => {
          const { result } = n.store.groupCommit(fn)
          return { result, durable: new Promise<void>((resolve, reject) => (sync = { resolve, reject })) }
        },
      },
      events: n.events,
      send: acceptOrThrow,
    })
    const before = n.emitted.length
    let answered = 0
    const first = Promise.all([slowDisk.send(msg('a', 1)), slowDisk.send(msg('b', 2))]).then((ids) => {
      answered += ids.length
      return ids
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(n.store.messages.total()).toBe(2) // committed …
    expect(answered).toBe(0) // … but not yet durable: nobody is told
    expect(n.emitted.length).toBe(before)
    sync.resolve()
    expect(await first).toHaveLength(2)
    expect(n.emitted.length).toBeGreaterThan(before)

    const failed = Promise.allSettled([slowDisk.send(msg('c', 3))])
    await new Promise((r) => setTimeout(r, 20))
    const heard = n.emitted.length
    sync.reject(new Error('EIO'))
    expect(codes(await failed)).toEqual(['INTERNAL'])
    expect(n.emitted.length).toBe(heard)
  })
})
