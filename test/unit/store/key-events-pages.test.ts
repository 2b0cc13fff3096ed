// Key events read a page at a time for the NDJSON audit export (node/store/key-events-repo.ts `extent`,
// `eventsAfter`; decision 0046): pages of any size give every key log in the export's order (by DID, each
// log by seq, a revocation after the DID's own events), exactly the events stored when the export began.
import { afterEach, describe, expect, it } from 'vitest'
import type { KeyEvent, KeyState } from '../../../node/core/index.js'
import { openStore, type Store } from '../../../node/store/index.js'

const stores: Store[] = []
afterEach(() => {
  while (stores.length) stores.pop()!.close()
})

/** Store a key event of `did` (the repository stores what acceptance passed it; nothing is checked here). */
function put(store: Store, did: string, seq: number, type: 'icp' | 'rot' | 'rev'): void {
  const event = { v: 1, type, did, seq } as unknown as KeyEvent
  const state = { did, seq, revoked: null } as unknown as KeyState
  store.keyEvents.append(event, `${did}/${type}/${seq}`, state, 0)
}

const label = (e: KeyEvent): string => `${e.did}/${e.type}/${e.seq}`

describe('key events in pages', () => {
  it('give every log in export order, of the events stored when the export began', () => {
    const store = openStore({ path: ':memory:' })
    stores.push(store)
    // stored out of order: a controller's revocation names seq 1, beside the DID's own rotation at 1
    put(store, 'did:msig:c', 0, 'icp')
    put(store, 'did:msig:a', 0, 'icp')
    put(store, 'did:msig:a', 1, 'rev')
    put(store, 'did:msig:b', 0, 'icp')
    put(store, 'did:msig:a', 1, 'rot')
    put(store, 'did:msig:c', 0, 'rev')
    put(store, 'did:msig:a', 2, 'rot')
    const whole = store.keyEvents.allDids().flatMap((did) => store.keyEvents.log(did))
    const extent = store.keyEvents.extent()
    put(store, 'did:msig:a', 3, 'rot') // arrive while the export runs
    put(store, 'did:msig:0', 0, 'icp')
    expect(extent.count).toBe(whole.length)
    for (const size of [1, 2, 3, 100]) {
      const read: KeyEvent[] = []
      for (let page = store.keyEvents.eventsAfter(undefined, size, extent.last); page.length > 0;) {
        expect(page.length).toBeLessThanOrEqual(size)
        read.push(...page.map((p) => p.event))
        page = store.keyEvents.eventsAfter(page.at(-1), size, extent.last)
      }
      expect(read.map(label), `pages of ${size}`).toEqual(whole.map(label))
    }
    expect(whole.map(label)).toEqual([
      'did:msig:a/icp/0',
      'did:msig:a/rot/1',
      'did:msig:a/rot/2',
      'did:msig:a/rev/1',
      'did:msig:b/icp/0',
      'did:msig:c/icp/0',
      'did:msig:c/rev/0',
    ])
  })
})
