/**
 * One host, many users (docs/protocol.md §8, docs/SECURITY.md): a second OS
 * user (uid 12345 through `setpriv`, no token, no access to the operator's
 * home) talks to the node on 127.0.0.1 and tries to act as the operator's
 * agents and as the operator. Every attempt is refused with a code, changes
 * nothing and leaves an `api.refused` audit entry; the same requests with the
 * agent's credential or the operator token work. With `trustLoopback` on,
 * loopback is the operator again.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../node/index.js'
import { generateKeyPair, type AuditEntry } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'

const OTHER_UID = 12345
const isRoot = process.getuid?.() === 0

interface Attempt {
  readonly method: string
  readonly path: string
  readonly body?: unknown
  readonly bearer?: string
}

interface Outcome {
  readonly status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
}

/** A script the other user runs: performs each request, prints the outcomes as JSON. */
const ATTACKER = `
const [url, file] = process.argv.slice(2)
const attempts = JSON.parse(require('node:fs').readFileSync(file, 'utf8'))
;(async () => {
  const out = []
  for (const a of attempts) {
    const headers = { 'content-type': 'application/json' }
    if (a.bearer) headers.authorization = 'Bearer ' + a.bearer
    const res = await fetch(url + a.path, { method: a.method, headers, body: a.body === undefined ? undefined : JSON.stringify(a.body) })
    const text = await res.text()
    out.push({ status: res.status, body: text ? JSON.parse(text) : null })
  }
  process.stdout.write(JSON.stringify(out))
})()
`

let scratch = ''

/** The audit entries of `node` from index `from`. */
function auditFrom(node: MeshNode, from: number): AuditEntry[] {
  return node.store.auditEntries.entries(from, 1_000_000).map((r) => JSON.parse(r.entry) as AuditEntry)
}

/** Run `attempts` against `url` as uid 12345 (a real second OS user, through setpriv). */
function asOtherUser(url: string, attempts: readonly Attempt[]): Promise<Outcome[]> {
  const file = join(scratch, `attempts-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(attempts), { mode: 0o644 })
  const script = join(scratch, 'attacker.cjs')
  const args = [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', process.execPath, script, url, file]
  return new Promise((resolve, reject) => {
    execFile('setpriv', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`setpriv failed: ${stderr || err.message}`))
      resolve(JSON.parse(stdout) as Outcome[])
    })
  })
}

beforeAll(() => {
  if (!isRoot) return
  scratch = mkdtempSync(join(tmpdir(), 'meshsig-users-'))
  chmodSync(scratch, 0o755)
  writeFileSync(join(scratch, 'attacker.cjs'), ATTACKER, { mode: 0o644 })
})
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe.skipIf(!isRoot)('two OS users on one host (needs root for setpriv; CI runs as root)', () => {
  let fx: ApiFixture
  let other: MeshNode
  let alice: { did: string; credential: string }
  let alice2: string
  let byok: string

  beforeAll(async () => {
    fx = await startApi()
    other = await startNode()
    const a = await fx.call('POST', '/agents/register', { name: 'alice' })
    alice = { did: a.body.identity.did, credential: a.body.identity.credential }
    alice2 = (await fx.call('POST', '/agents/register', { name: 'alice-2' })).body.identity.did
    const client = new MeshsigClient({ server: fx.url, token: fx.token })
    byok = (await client.registerWithKey(generateKeyPair(), { name: 'own-key' }, generateKeyPair())).identity.did
  })
  afterAll(async () => {
    await fx?.stop()
    await stopAll(other ? [other] : [])
  })

  const attacks = (): (Attempt & { action: string; subject: string | null })[] => [
    {
      action: 'messages.send',
      subject: alice.did,
      method: 'POST',
      path: '/messages/send',
      body: { fromDid: alice.did, toDid: alice2, message: 'wire the money' },
    },
    {
      action: 'handshake',
      subject: alice.did,
      method: 'POST',
      path: '/handshake',
      body: { fromDid: alice.did, toDid: alice2 },
    },
    {
      action: 'agents.rotate-key',
      subject: alice.did,
      method: 'POST',
      path: '/agents/rotate-key',
      body: { did: alice.did },
    },
    {
      action: 'agents.revoke',
      subject: alice.did,
      method: 'POST',
      path: '/agents/revoke',
      body: { did: alice.did, reason: 'x' },
    },
    {
      action: 'agents.revoke',
      subject: byok,
      method: 'POST',
      path: '/agents/revoke',
      body: { did: byok, reason: 'x' },
    },
    { action: 'audit.checkpoint', subject: null, method: 'POST', path: '/audit/checkpoint' },
    {
      action: 'peers.connect',
      subject: null,
      method: 'POST',
      path: '/peers/connect',
      body: { address: other.mesh.multiaddrs()[0] },
    },
  ]

  it('another user without a credential is refused everything, changes nothing, and is audited', async () => {
    const before = { messages: fx.node.stats().messages, alice: fx.node.keyView(alice.did), peers: fx.node.peers() }
    const auditBefore = fx.node.store.auditEntries.count()
    const list = attacks()
    const outcomes = await asOtherUser(fx.url, list)
    for (const [i, o] of outcomes.entries()) {
      expect({ path: list[i]!.path, status: o.status, code: o.body.code }).toEqual({
        path: list[i]!.path,
        status: 401,
        code: 'UNAUTHORIZED',
      })
    }
    expect(fx.node.stats().messages).toBe(before.messages)
    expect(fx.node.keyView(alice.did)).toEqual(before.alice)
    expect(fx.node.signerKey(byok).revoked).toBe(false)
    expect(fx.node.connections()).toHaveLength(0)
    expect(fx.node.peers()).toEqual(before.peers)
    const refusals = auditFrom(fx.node, auditBefore).filter((e) => e.kind === 'api.refused')
    expect(refusals.map((e) => [e.data.action, e.subject, e.code, e.data.authority, e.data.client])).toEqual(
      list.map((a) => [a.action, a.subject, 'UNAUTHORIZED', 'anonymous', 'loopback']),
    )
  })

  it("another user's own agent credential does not act for alice (403), nor for the operator", async () => {
    const [mine] = await asOtherUser(fx.url, [{ method: 'POST', path: '/agents/register', body: { name: 'mallory' } }])
    expect(mine!.status).toBe(201)
    const credential: string = mine!.body.identity.credential
    const list = attacks().map((a) => ({ ...a, bearer: credential }))
    const outcomes = await asOtherUser(fx.url, list)
    expect(outcomes.map((o) => [o.status, o.body.code])).toEqual(list.map(() => [403, 'FORBIDDEN']))
    expect(fx.node.keyView(alice.did).keySeq).toBe(0)
    const wrong = await asOtherUser(fx.url, [{ ...list[0]!, bearer: 'msag_' + 'A'.repeat(43) }])
    expect([wrong[0]!.status, wrong[0]!.body.code]).toEqual([401, 'UNAUTHORIZED'])
  })

  it("with alice's credential the same user acts as alice, and the audit says an agent credential did", async () => {
    const bearer = alice.credential
    const [sent, hs, rot] = await asOtherUser(fx.url, [
      { method: 'POST', path: '/messages/send', body: { fromDid: alice.did, toDid: alice2, message: 'hi' }, bearer },
      { method: 'POST', path: '/handshake', body: { fromDid: alice.did, toDid: alice2 }, bearer },
      { method: 'POST', path: '/agents/rotate-key', body: { did: alice.did }, bearer },
    ])
    expect([sent!.status, sent!.body.from]).toEqual([200, alice.did])
    expect([hs!.status, hs!.body.verified]).toEqual([200, true])
    expect([rot!.status, rot!.body.keySeq]).toEqual([200, 1])
    const entry = auditFrom(fx.node, 0).find((e) => e.envelopeId === sent!.body.id)
    expect(entry?.data.authority).toBe('agent')
    // alice's credential is not the operator's
    const [chk] = await asOtherUser(fx.url, [{ method: 'POST', path: '/audit/checkpoint', bearer }])
    expect([chk!.status, chk!.body.code]).toEqual([403, 'FORBIDDEN'])
  })

  it('the operator token does what only the operator may; a revoked agent’s credential dies with it', async () => {
    const token = fx.token
    const [chk, conn, rev] = await asOtherUser(fx.url, [
      { method: 'POST', path: '/audit/checkpoint', bearer: token },
      { method: 'POST', path: '/peers/connect', body: { address: other.mesh.multiaddrs()[0] }, bearer: token },
      { method: 'POST', path: '/agents/revoke', body: { did: byok, reason: 'decommissioned' }, bearer: token },
    ])
    expect(chk!.status).toBe(201)
    expect([conn!.status, conn!.body.connected]).toEqual([200, true])
    expect([rev!.status, rev!.body.revoked]).toEqual([200, true])
    const [revAlice] = await asOtherUser(fx.url, [
      { method: 'POST', path: '/agents/revoke', body: { did: alice.did, reason: 'leaked' }, bearer: alice.credential },
    ])
    expect(revAlice!.status).toBe(200)
    const [after] = await asOtherUser(fx.url, [
      {
        method: 'POST',
        path: '/messages/send',
        body: { fromDid: alice2, toDid: null, message: 'x' },
        bearer: alice.credential,
      },
    ])
    expect([after!.status, after!.body.code]).toEqual([401, 'UNAUTHORIZED'])
  })
})

describe.skipIf(!isRoot)('trustLoopback: a single-user machine opts back into "loopback is the operator"', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ trustLoopback: true })
  })
  afterAll(async () => {
    await fx?.stop()
  })

  it('any local user acts as the operator, and /health says so', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'a' })).body.identity.did
    const b = (await fx.call('POST', '/agents/register', { name: 'b' })).body.identity.did
    const [health, sent, chk] = await asOtherUser(fx.url, [
      { method: 'GET', path: '/health' },
      { method: 'POST', path: '/messages/send', body: { fromDid: a, toDid: b, message: 'as before' } },
      { method: 'POST', path: '/audit/checkpoint' },
    ])
    expect(health!.body.trustLoopback).toBe(true)
    expect([sent!.status, sent!.body.from]).toEqual([200, a])
    expect(chk!.status).toBe(201)
    const entry = auditFrom(fx.node, 0).find((e) => e.envelopeId === sent!.body.id)
    expect(entry?.data.authority).toBe('loopback')
  })
})
