/**
 * The seed's send form, `{fromDid, toDid, message, privateKey}`, against a
 * real `meshsig start` process logging at debug level (issue 13): the node
 * keeps the key objects it builds from a one-time `privateKey` only in its
 * bounded in-memory cache, so the key never reaches the database file (or
 * its WAL), the node's log, or any answer, whether the send succeeds, names
 * a key that is not the DID's, or is malformed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInception, createRegistration, generateKeyPair, toB64 } from '../../node/core/index.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

/** Every spelling of a 32-byte seed a leak could take: raw, b64, b64url and hex. */
function spellings(seed: Uint8Array): Buffer[] {
  const raw = Buffer.from(seed)
  return [
    raw,
    Buffer.from(raw.toString('base64')),
    Buffer.from(raw.toString('base64url')),
    Buffer.from(raw.toString('hex')),
  ]
}

/** Every file under `dir` (the home: identity, database, -wal, -shm, token), with its bytes. */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) for (const [p, b] of filesUnder(path)) out.set(p, b)
    else out.set(path, readFileSync(path))
  }
  return out
}

describe('a one-time privateKey sent to a running node', () => {
  let cli: BuiltCli
  let proc: NodeProcess
  const home = tempDir('meshsig-pk-send-')
  const own = generateKeyPair()
  const stranger = generateKeyPair()
  let ownDid = ''
  let recipient = ''
  const answers: string[] = []

  const send = async (body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await postJson<Record<string, unknown>>(`${proc.url}/messages/send`, body)
    answers.push(JSON.stringify(r.body))
    return r
  }

  beforeAll(async () => {
    cli = buildCli()
    const port = await freePort()
    proc = startProcess(cli, home.dir, port, [], { MESHSIG_RATE_LIMIT: '0', MESHSIG_LOG_LEVEL: 'debug' })
    const health = await waitFor(() => getJson<{ did: string; peerId: string }>(`${proc.url}/health`), {
      timeout: 30_000,
      interval: 100,
    })
    const b = await postJson<{ identity: { did: string } }>(`${proc.url}/agents/register`, { name: 'recipient' })
    recipient = b.body.identity.did
    // an agent that holds its own key: the node has never seen its seed
    const icp = createInception(own, Date.now(), generateKeyPair())
    const reg = createRegistration(
      { did: icp.did, name: 'own', capabilities: [], controller: health.did, peerId: health.peerId, ts: Date.now() },
      own,
    )
    const r = await postJson(`${proc.url}/agents/register`, {
      name: 'own',
      publicKey: toB64(own.publicKey),
      proof: { icp, reg },
    })
    expect(r.status).toBe(201)
    ownDid = icp.did
  }, 120_000)

  afterAll(async () => {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL')
      await proc.exited()
    }
    cli?.cleanup()
    home.cleanup()
  })

  it('signs with it (again and again, concurrently), refuses a wrong or malformed one, and keeps none of them', async () => {
    const good = { fromDid: ownDid, toDid: recipient, privateKey: toB64(own.seed) }
    const sent = await Promise.all(Array.from({ length: 24 }, (_, i) => send({ ...good, message: `task ${i}` })))
    for (const r of sent) expect(r.body).toMatchObject({ sent: true, verified: true, from: ownDid, to: recipient })

    const wrong = await send({ ...good, privateKey: toB64(stranger.seed), message: 'not mine' })
    expect(wrong.status).toBe(400)
    expect(wrong.body.code).toBe('KEY_MISMATCH')
    const cut = toB64(own.seed).slice(0, 20)
    const malformed = await send({ ...good, privateKey: cut, message: 'cut short' })
    expect(malformed.status).toBe(400)
    expect(malformed.body.code).toBe('INVALID_KEY')

    // what anyone can read back: the messages, the agent, the audit log, the metrics
    const token = readFileSync(join(home.dir, 'api-token'), 'utf8').trim()
    for (const path of [`/messages?did=${ownDid}`, `/agents/${ownDid}`, '/audit/export', '/metrics', '/stats']) {
      const res = await fetch(proc.url + path, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status, path).toBe(200)
      answers.push(await res.text())
    }
    const read = Buffer.from(answers.join('\n'))
    // the search does see what the node handed out: the sender's DID is in its answers
    expect(read.includes(Buffer.from(ownDid))).toBe(true)

    // a clean stop checkpoints the WAL into the file; a copy taken while it ran would hold the same pages
    proc.child.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    const files = filesUnder(home.dir)
    expect([...files.keys()].some((p) => p.endsWith('meshsig.db'))).toBe(true)
    const db = [...files].find(([p]) => p.endsWith('meshsig.db'))![1]
    expect(db.includes(Buffer.from(ownDid))).toBe(true)
    const log = Buffer.from(proc.output())
    expect(log.length).toBeGreaterThan(0)

    const needles: [string, Buffer][] = [
      ...spellings(own.seed).map((s): [string, Buffer] => ['the key used', s]),
      ...spellings(stranger.seed).map((s): [string, Buffer] => ['the wrong key', s]),
      ['the cut-short key', Buffer.from(cut)],
    ]
    for (const [label, needle] of needles) {
      expect(read.includes(needle), `${label} in an answer`).toBe(false)
      expect(log.includes(needle), `${label} in the node's output`).toBe(false)
      for (const [path, bytes] of files) expect(bytes.includes(needle), `${label} in ${path}`).toBe(false)
    }
  }, 120_000)
})
