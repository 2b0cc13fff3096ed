/**
 * `meshsig verify` does not take a did:msig's current key on the word of the
 * server at `--server` / `MESHSIG_SERVER`: it may not be the node (another
 * local user on the node's port while it is down, decision 0034; a hostile
 * URL). The server gives the DID's signed key events (`GET /keys/:did`
 * `keyEvents`) and verify replays them from the DID's own inception key
 * (attack review 61): a key the events do not prove fails closed with
 * KEL_INVALID, and a signature the DID never made is never VALID. A server
 * can at most hide later rotations (answer `known: false` or cut the log
 * short), which verify says in its note.
 */
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCommand } from '../../cli/commands/verify.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import {
  createInception,
  createRotation,
  generateKeyPair,
  replayKeyEvents,
  toB64,
  utf8,
  type KeyEvent,
} from '../../node/core/index.js'
import { createApiToken } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'

const root = tempDir('meshsig-verify-impostor-')
const attacker = generateKeyPair()
const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const did = icp.did
const rot = createRotation(replayKeyEvents([icp]), k0, k1, 2_000, k2)
const message = 'Transfer 100 to the attacker'

/** What the server at --server answers for `GET /keys/<did>`: set by each test. */
let keysAnswer: Record<string, unknown> = {}
let server: Server
let base = ''

/** A key view as a node builds it, with `publicKey` and `keyEvents` chosen by the test. */
function view(publicKey: string, keyEvents: readonly unknown[] | undefined, priorKeys: string[] = []) {
  return {
    did,
    known: true,
    source: 'key-event-log',
    publicKey,
    keySeq: priorKeys.length,
    lastId: 'ab'.repeat(32),
    next: null,
    priorKeys,
    revoked: false,
    revocation: null,
    duplicity: [],
    ...(keyEvents !== undefined ? { keyEvents } : {}),
  }
}

function io(): CliIo {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: () => Promise.resolve(new Uint8Array()),
    env: { MESHSIG_HOME: join(root.dir, 'home'), MESHSIG_SERVER: base },
    now: () => Date.now(),
  }
}

/** verify's answer, or its error as `{code}`. */
async function verify(signer: { sign(m: Uint8Array): Uint8Array }): Promise<Record<string, unknown>> {
  const sig = toB64(signer.sign(utf8(message)))
  return verifyCommand(contextFrom({}, io()), message, sig, did).then(
    (r) => ({ ...(r.json as Record<string, unknown>), exitCode: r.exitCode ?? 0 }),
    (err: { code?: string; message?: string }) => ({ valid: false, code: err.code, error: err.message }),
  )
}

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if ((req.url ?? '').startsWith('/keys/')) return res.end(JSON.stringify(keysAnswer))
    res.statusCode = 404
    res.end(JSON.stringify({ error: 'not found', code: 'NOT_FOUND' }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  root.cleanup()
})

describe('verify against a server that is not the node', () => {
  it('a current key named without key events (the review’s impostor): KEL_INVALID, never VALID', async () => {
    keysAnswer = view(toB64(attacker.publicKey), undefined, [toB64(k0.publicKey)])
    expect(await verify(attacker)).toMatchObject({ valid: false, code: 'KEL_INVALID' })
  })

  it('the real inception and a rotation to the impostor’s key it signed itself: KEL_INVALID', async () => {
    const forged = createRotation(replayKeyEvents([icp]), attacker, attacker, 2_000, null)
    keysAnswer = view(toB64(attacker.publicKey), [icp, forged], [toB64(k0.publicKey)])
    const r = await verify(attacker)
    expect(r).toMatchObject({ valid: false, code: 'KEL_INVALID' })
    expect(String(r.error)).toContain(base)
  })

  it('a true log under a current key it does not lead to: KEL_INVALID', async () => {
    keysAnswer = view(toB64(attacker.publicKey), [icp, rot], [toB64(k0.publicKey)])
    expect(await verify(attacker)).toMatchObject({ valid: false, code: 'KEL_INVALID' })
  })

  it('a log that is true: the key it proves is used; the rotated-out key is ROTATED_KEY', async () => {
    keysAnswer = view(toB64(k1.publicKey), [icp, rot] satisfies KeyEvent[], [toB64(k0.publicKey)])
    expect(await verify(k1)).toMatchObject({ valid: true, keySource: 'key event log (node)', keySeq: 1 })
    expect(await verify(k0)).toMatchObject({ valid: false, code: 'ROTATED_KEY', exitCode: 1 })
    expect(await verify(attacker)).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' })
  })

  it('what a server can still do is hide the log, and the answer says whose word it was', async () => {
    keysAnswer = { ...view(toB64(k0.publicKey), []), known: false, source: 'did', keySeq: null }
    const r = await verify(k0)
    expect(r).toMatchObject({ valid: true, keySource: 'did:msig inception key (no key event log on the node)' })
    expect(String(r.note)).toContain(`the node at ${base} knows no key event log`)
    // no token at hand to prove it with: the answer says the key state is the server's unproven word
    expect(String(r.note)).toContain(`the key state is the word of the server at ${base}, not proven to be the node`)
    expect(String(r.note)).toContain('can hide a rotation or a revocation')
  })

  it('with a token at hand (the home’s) a server that cannot prove it holds it: NODE_UNPROVEN, never a verdict', async () => {
    keysAnswer = { ...view(toB64(k0.publicKey), []), known: false, source: 'did', keySeq: null }
    createApiToken(join(root.dir, 'home'))
    try {
      expect(await verify(k0)).toMatchObject({ valid: false, code: 'NODE_UNPROVEN' })
    } finally {
      rmSync(join(root.dir, 'home', 'api-token'))
    }
  })
})
