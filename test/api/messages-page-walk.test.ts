/**
 * `GET /messages` a page at a time (attack review 98, docs/api.md): a page
 * ends at `limit` messages or at `http.messagePageBytes` of JSON, whichever
 * comes first, its first message always included; `next` is the `before` of
 * the rest, null on the last page. Following `next` from the first page
 * gives every stored message of the filter once, newest first. The bound is
 * shrunk to a few messages here so that small messages show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const PAGE_BYTES = 6_000
const BODIES = ['a', 'b'.repeat(1_500), 'c', 'd'.repeat(8_000), 'e', 'f'.repeat(2_500), 'g', 'h', 'i', 'j']

interface Page {
  messages: { seq: number; from: string; to: string; message: string }[]
  total: number
  next: number | null
}

let fx: ApiFixture
let alpha: string
let beta: string
let gamma: string

async function register(name: string): Promise<string> {
  return (await fx.call('POST', '/agents/register', { name })).body.record.did as string
}

/** Every page of `GET /messages?<query>`, following `next`. */
async function walk(query: string): Promise<Page[]> {
  const pages: Page[] = []
  let before: number | null | undefined
  do {
    const r = await fx.anon('GET', `/messages?${query}${before ? `&before=${before}` : ''}`)
    expect(r.status).toBe(200)
    const page = r.body as Page
    // a page holds at most the bound, or one message larger than it, and ends where `next` says
    const bytes = page.messages.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0)
    expect(page.messages.length === 1 || bytes <= PAGE_BYTES, `${page.messages.length} messages, ${bytes} B`).toBe(true)
    if (page.next !== null) expect(page.next).toBe(page.messages.at(-1)!.seq)
    pages.push(page)
    before = page.next
  } while (before !== null && pages.length < 50)
  return pages
}

beforeAll(async () => {
  fx = await startApi({}, {}, { init: { limits: { http: { messagePageBytes: PAGE_BYTES } } } })
  alpha = await register('alpha')
  beta = await register('beta')
  gamma = await register('gamma')
  for (const [i, message] of BODIES.entries()) {
    const toDid = i % 3 === 0 ? gamma : beta
    expect((await fx.call('POST', '/messages/send', { fromDid: alpha, toDid, message })).status).toBe(200)
  }
})
afterAll(async () => {
  expectNo500(fx)
  await fx.stop()
})

describe('GET /messages, a page at a time', () => {
  it('ends a page at its byte bound or its limit, and `next` leads through every message once', async () => {
    const pages = await walk('limit=4')
    const seen = pages.flatMap((p) => p.messages.map((m) => m.message))
    expect(seen).toEqual([...BODIES].reverse())
    expect(pages.at(-1)!.next).toBeNull()
    expect(pages.every((p) => p.total === BODIES.length)).toBe(true)
    // the byte bound, not the limit, ended some page; a message larger than the bound comes alone
    expect(pages.some((p) => p.messages.length < 4 && p.next !== null)).toBe(true)
    expect(pages.find((p) => p.messages.some((m) => m.message === BODIES[3]))!.messages).toHaveLength(1)
  })

  it('pages the messages of one DID the same way', async () => {
    const pages = await walk(`did=${gamma}&limit=2`)
    const seen = pages.flatMap((p) => p.messages.map((m) => m.message))
    expect(seen).toEqual(BODIES.filter((_, i) => i % 3 === 0).reverse())
    expect(pages.every((p) => p.total === seen.length)).toBe(true)
  })

  it('a page that holds the last message says so, even when it is exactly full', async () => {
    const seqs = (await walk(`did=${gamma}&limit=1`)).flatMap((p) => p.messages.map((m) => m.seq))
    expect(seqs).toHaveLength(4)
    const exact = (await fx.anon('GET', `/messages?did=${gamma}&limit=1&before=${seqs[2]}`)).body as Page
    expect(exact).toMatchObject({ messages: [{ seq: seqs[3] }], next: null })
    const more = (await fx.anon('GET', `/messages?did=${gamma}&limit=1&before=${seqs[1]}`)).body as Page
    expect(more).toMatchObject({ messages: [{ seq: seqs[2] }], next: seqs[2] })
    expect((await fx.anon('GET', `/messages?did=${alpha}&before=1`)).body).toMatchObject({ messages: [], next: null })
  })
})
