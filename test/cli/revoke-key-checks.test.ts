/**
 * `meshsig revoke` against a real node (decision 0077).
 *
 * - Review 105 L3: with a key the DID rotated away from (the key a user still has after the node rotated a
 *   custodied agent), the CLI signed a `rev` and sent it: the node answered SIGNATURE_INVALID and wrote an
 *   audit entry for every try, where `meshsig rotate-key` and the API's `{did, privateKey}` answer
 *   KEY_MISMATCH and write nothing. The CLI now checks the key first.
 * - Review 105 L7: the seed's CLI is `revoke <did> [--reason]`, and the API and `meshsig_revoke` default the
 *   reason to "unspecified"; the CLI alone refused a revocation without --reason (exit 2).
 * - Review 106 L2: the node checks a controller's rev against its current key and its last PRIOR_KEYS_TRIED
 *   prior keys only; the CLI took every earlier key, so a node key from before its 9th rotation was signed,
 *   sent and charged as a forgery again. The CLI now takes the keys the node tries, no more.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRIOR_KEYS_TRIED } from '../../node/core/acceptance.js'
import { toB64 } from '../../node/core/index.js'
import { loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import { getJson, postJson } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { startCliNode, type CliNode } from './cli-node.js'

let n: CliNode

beforeAll(async () => {
  n = await startCliNode('meshsig-revoke-key-checks-')
}, 240_000)

afterAll(() => n?.stop())

/** `tries` revocations of `did` with `seed`: what each answered, and the audit entries they wrote. */
async function refusedTries(did: string, seed: string, tries = 3): Promise<{ answers: string[]; written: number }> {
  const before = await n.auditEntries()
  const answers: string[] = []
  for (let i = 0; i < tries; i++) {
    const r = await n.run(['revoke', did, '--reason', 'Key leaked', '--private-key', '-', '--json'], `${seed}\n`)
    answers.push(`exit ${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`)
  }
  return { answers, written: (await n.auditEntries()) - before }
}

describe('meshsig revoke --private-key - with a key the DID rotated away from', () => {
  it('answers KEY_MISMATCH as rotate-key and the API do, and writes nothing', async () => {
    const agent = await n.register('stale-key')
    const rot = await postJson(`${n.node.url}/agents/rotate-key`, { did: agent.did }, agent.credential)
    expect(rot.status).toBe(200)
    // the API's own answer to the same key: KEY_MISMATCH, nothing written
    const before = await n.auditEntries()
    const api = await postJson<{ code: string }>(`${n.node.url}/agents/revoke`, {
      did: agent.did,
      reason: 'Key leaked',
      privateKey: agent.privateKey,
    })
    expect(api.body.code).toBe('KEY_MISMATCH')
    expect(await n.auditEntries()).toBe(before)
    const { answers, written } = await refusedTries(agent.did, agent.privateKey)
    const report = `answers:\n${answers.join('\n')}\naudit entries written: ${written}`
    expect(
      answers.every((a) => a.startsWith('exit 1 ') && a.includes('KEY_MISMATCH')),
      report,
    ).toBe(true)
    expect(written, report).toBe(0)
  }, 60_000)
})

describe('meshsig revoke without --reason (the seed: revoke <did> [--reason])', () => {
  it('revokes with the reason "unspecified", as the API and meshsig_revoke do', async () => {
    const agent = await n.register('no-reason')
    const r = await n.run(['revoke', agent.did, '--json'])
    const report = `exit ${r.code}\n${r.stdout}${r.stderr}`
    expect(r.code, report).toBe(0)
    expect(JSON.parse(r.stdout).reason, report).toBe('unspecified')
  }, 30_000)
})

// last: it rotates the node's key PRIOR_KEYS_TRIED + 1 times
describe('meshsig revoke --private-key - with a controller key older than the node tries', () => {
  it('answers KEY_MISMATCH and writes nothing', async () => {
    const token = readFileSync(join(n.home, 'api-token'), 'utf8').trim()
    const k0 = loadIdentity(n.home).keyPair
    for (let i = 0; i <= PRIOR_KEYS_TRIED; i++) {
      const { rotation } = rotateIdentity(n.home)
      const r = await postJson(`${n.node.url}/agents/rotate-key`, { did: rotation.did, envelope: rotation }, token)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      const ready = async (): Promise<boolean> =>
        (await getJson<{ mesh?: string }>(`${n.node.url}/health`).catch(() => ({ mesh: 'down' }))).mesh === 'ready'
      await waitFor(ready, { timeout: 60_000, message: 'the node follows its key' })
    }
    const agent = await n.register('hosted')
    const { answers, written } = await refusedTries(agent.did, toB64(k0.seed))
    const report = `answers:\n${answers.join('\n')}\naudit entries written: ${written}`
    expect(answers[0], report).toContain('KEY_MISMATCH')
    expect(written, report).toBe(0)
  }, 240_000)
})
