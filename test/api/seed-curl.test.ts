/**
 * The seed's curl examples in docs/api.md, run as written with real curl
 * (only the URL and the `did:msig:...` / `base64...` placeholders filled in):
 * register, verify, send with `privateKey` and rotate with
 * `currentPrivateKey` carry their own proof and need no token; the seed's
 * revoke carries none and is answered 401, naming the ways to prove it
 * (docs/protocol.md §8).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keyPairFromB64, toB64, utf8 } from '../../node/core/index.js'
import { startApi, type ApiFixture } from './api-fixture.js'

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')

/** The first ```bash block of section `## <heading>` whose curl call contains `marker`. */
function example(heading: string, marker: string): string {
  const start = doc.indexOf(`## ${heading}\n`)
  expect(start, heading).toBeGreaterThan(-1)
  const section = doc.slice(start, doc.indexOf('\n## ', start + 4))
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!)
  const block = blocks.find((b) => b.includes(marker))
  expect(block, `${heading}: a curl example with ${marker}`).toBeDefined()
  return block!
}

/**
 * Run a documented example with bash and curl; returns the parsed JSON it
 * printed. Asynchronous: the node answering it lives in this process.
 */
async function run(script: string, url: string, fill: readonly [string, string][]): Promise<Record<string, unknown>> {
  let text = script.replaceAll('http://localhost:4888', url)
  for (const [placeholder, value] of fill) text = text.replace(placeholder, value)
  expect(text).not.toMatch(/did:msig:\.\.\.|"base64\.\.\."/)
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  const { stdout } = await promisify(execFile)('bash', ['-c', text.replaceAll('curl ', 'curl -s ')], { env })
  return JSON.parse(stdout) as Record<string, unknown>
}

describe("the seed's curl examples in docs/api.md, as written", () => {
  let fx: ApiFixture
  let alice: { did: string; privateKey: string }
  let bob: string
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  it('register needs no token and returns the identity with its private key and credential once', async () => {
    const body = await run(example('POST /agents/register', '"name"'), fx.url, [])
    const identity = body.identity as Record<string, string>
    expect(identity.did).toMatch(/^did:msig:/)
    expect(identity.credential).toMatch(/^msag_/)
    alice = { did: identity.did!, privateKey: identity.privateKey! }
    bob = ((await run(example('POST /agents/register', '"name"'), fx.url, [])).identity as Record<string, string>).did!
  })

  it('verify: a plain signature by the DID', async () => {
    const sig = toB64(keyPairFromB64(alice.privateKey).sign(utf8('hello')))
    const body = await run(example('POST /verify', '"signature"'), fx.url, [
      ['"base64..."', `"${sig}"`],
      ['did:msig:...', alice.did],
    ])
    expect(body.valid).toBe(true)
  })

  it('send with privateKey', async () => {
    const body = await run(example('POST /messages/send', '"privateKey"'), fx.url, [
      ['did:msig:...', alice.did],
      ['did:msig:...', bob],
      ['"privateKey":"..."', `"privateKey":"${alice.privateKey}"`],
    ])
    expect([body.sent, body.verified, body.from]).toEqual([true, true, alice.did])
  })

  it('rotate with currentPrivateKey', async () => {
    const body = await run(example('POST /agents/rotate-key', '"currentPrivateKey"'), fx.url, [
      ['did:msig:...', alice.did],
      ['"base64..."', `"${alice.privateKey}"`],
    ])
    expect([body.rotated, body.did, body.keySeq]).toEqual([true, alice.did, 1])
  })

  it('revoke without proof: 401, naming how to prove it, and nothing changes', async () => {
    const body = await run(example('POST /agents/revoke', '"Compromised key"}'), fx.url, [['did:msig:...', bob]])
    expect(body.code).toBe('UNAUTHORIZED')
    expect(String(body.error)).toMatch(/credential or the operator token/)
    expect(String(body.error)).toMatch(/privateKey/)
    expect(String(body.error)).toMatch(/signed rev envelope/)
    expect(fx.node.signerKey(bob).revoked).toBe(false)
  })
})
