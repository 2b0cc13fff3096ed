/**
 * The seed's curl examples in docs/api.md, run as written with real bash,
 * jq and curl (only the URL and the `did:msig:...` / `base64...`
 * placeholders filled in): register, verify, send with `privateKey` and
 * rotate with `currentPrivateKey` carry their own proof and need no token —
 * the private key read from a file into a 0600 body, never put on a command
 * line; the seed's revoke carries none and is answered 401, naming the ways
 * to prove it (docs/protocol.md §8).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
async function run(
  script: string,
  url: string,
  fill: readonly [string, string][],
  key?: string,
): Promise<Record<string, unknown>> {
  let text = script.replaceAll('http://localhost:4888', url)
  for (const [placeholder, value] of fill) text = text.replace(placeholder, value)
  expect(text).not.toMatch(/did:msig:\.\.\.|"base64\.\.\."/)
  // the examples read the agent's key from agent.key in the folder they run in
  const cwd = mkdtempSync(join(tmpdir(), 'meshsig-seed-curl-'))
  try {
    if (key !== undefined) writeFileSync(join(cwd, 'agent.key'), key + '\n', { mode: 0o600 })
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
    const { stdout } = await promisify(execFile)('bash', ['-c', text.replaceAll('curl ', 'curl -s ')], { env, cwd })
    return JSON.parse(stdout) as Record<string, unknown>
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
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
    const script = example('POST /messages/send', 'privateKey:')
    expect(script).not.toContain(alice.privateKey)
    const fill: [string, string][] = [
      ['did:msig:...', alice.did],
      ['did:msig:...', bob],
    ]
    const body = await run(script, fx.url, fill, alice.privateKey)
    expect([body.sent, body.verified, body.from]).toEqual([true, true, alice.did])
  })

  it('rotate with currentPrivateKey', async () => {
    const script = example('POST /agents/rotate-key', 'currentPrivateKey:')
    const body = await run(script, fx.url, [['did:msig:...', alice.did]], alice.privateKey)
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
