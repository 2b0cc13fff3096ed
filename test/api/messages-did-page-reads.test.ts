/**
 * `GET /messages?did=` (open to anyone) reads about the page it answers
 * (attack review 101, F1, decision 0067 addendum). It used to plan
 * `(from_did = ? OR to_did = ?) ORDER BY seq DESC LIMIT ?` as a MULTI-INDEX OR
 * followed by a TEMP B-TREE, reading and sorting every stored message of the
 * DID (envelopes included) before LIMIT, once per 8 messages of the page.
 *
 * What is counted is bytes the process reads (`rchar` of /proc/self/io:
 * SQLite's reads of the database file, whose page cache is 2 MiB), never a
 * time: a DID whose messages hold ~24 MiB of envelopes is asked for one page
 * of 100 messages (~1.6 MiB of JSON).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair } from '../../node/core/index.js'
import { tempDir } from '../helpers/mesh.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const MESSAGES = 3_000
const BODY = 'x'.repeat(8_000)
/** Reading what a page of 100 such messages answers (~1.6 MiB of JSON) with room to spare. */
const READ_BOUND = 16 * 1024 * 1024

let fx: ApiFixture
let cleanup: () => void
const alice = generateKeyPair()
const bob = generateKeyPair()
const A = didFromPublicKey(alice.publicKey)
const B = didFromPublicKey(bob.publicKey)

function rchar(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1])
}

beforeAll(async () => {
  const tmp = tempDir()
  cleanup = tmp.cleanup
  fx = await startApi({}, {}, { dbPath: `${tmp.dir}/meshsig.db` })
  // stored as gossip would store them (a busy agent's history, or a rogue peer's relayed traffic)
  const now = Date.now()
  fx.node.store.transaction(() => {
    for (let i = 0; i < MESSAGES; i++) {
      const nonce = new Uint8Array(16)
      new DataView(nonce.buffer).setUint32(0, i)
      const m = createMessage({ from: A, to: B, body: BODY, ts: now - MESSAGES + i, nonce }, alice)
      fx.node.store.messages.add(envelopeId(m), m, 'gossip', now)
    }
  })
}, 300_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
  cleanup?.()
})

describe('GET /messages?did=, as anyone', () => {
  it("reads about the page it answers, not the DID's whole history once per 8 messages", async () => {
    // the unfiltered page of the same size, for scale
    let before = rchar()
    const plain = await fx.anon('GET', '/messages?limit=100')
    const plainRead = rchar() - before
    expect(plain.status).toBe(200)

    before = rchar()
    const res = await fx.anon('GET', `/messages?did=${encodeURIComponent(A)}&limit=100`)
    const read = rchar() - before
    expect(res.status).toBe(200)
    expect(res.body.messages).toHaveLength(100)
    expect(res.body.total).toBe(MESSAGES)
    const answered = Buffer.byteLength(res.text)
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`
    expect(
      read,
      `one page of ${mib(answered)} read ${mib(read)} of the process (the same page without did: ${mib(plainRead)})`,
    ).toBeLessThanOrEqual(READ_BOUND)
  }, 300_000)
})
