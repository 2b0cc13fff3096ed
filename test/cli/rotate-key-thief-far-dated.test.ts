/**
 * Review 102 F2: SECURITY.md's remedy after a theft of an own-key agent's current key is `meshsig rotate-key
 * --did … --private-key-file … --next-private-key-file …`, "check the controller it prints … and register again if
 * the thief changed them" (decision 0070). The CLI (and the node's seed-style path, rotation-registration.ts
 * reSigned) re-sign the held registration at followingTs = max(now, held.ts + 1). A thief dates its registration at
 * MAX_TS - 1: the re-signed one, now signed by the NEW key, is dated MAX_TS, and the owner's "register again"
 * under the new key can never supersede it (replacesRegistration: a newer ts under the current key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rotateKeyCommand } from '../../cli/commands/rotate-key.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import { createInception, createRegistration, generateKeyPair, type KeyPair } from '../../node/core/index.js'
import { MAX_TS } from '../../node/core/envelope-schema.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { tempDir } from '../helpers/mesh.js'
import { quietIo, writeKeyFile } from './rotate-key-io.js'

const root = tempDir('meshsig-r102b-')
const io = (server: string): CliIo => quietIo(root.dir, server)
const keyFile = (name: string, key: KeyPair): string => writeKeyFile(root.dir, name, key)
afterAll(() => root.cleanup())

describe('rotation after a theft: the thief’s far-dated registration is carried to MAX_TS under the new key', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  it('the owner can register again under the new key after rotating', async () => {
    const node = fx.node.info()
    const key = generateKeyPair()
    const next = generateKeyPair()
    const icp = createInception(key, Date.now(), next)
    const did = icp.did
    const base = { did, capabilities: [{ type: 'pay' }], controller: node.did, peerId: node.peerId }
    const reg = createRegistration({ ...base, name: 'owner', ts: Date.now() }, key)
    const first = await fx.call('POST', '/agents/register', { name: 'owner', publicKey: icp.key, proof: { icp, reg } })
    expect(first.status).toBe(201)
    // the thief (holding `key`, the current key) signs a registration dated just before MAX_TS
    const thief = createRegistration({ ...base, name: 'thief', capabilities: [{ type: 'drain' }], ts: MAX_TS - 1 }, key)
    const stolen = await fx.call('POST', '/agents/register', {
      name: 'thief',
      publicKey: icp.key,
      proof: { icp, reg: thief },
    })
    expect(fx.node.store.agents.get(did)?.name).toBe('thief') // the documented part: the thief's is held
    // the owner rotates (the documented remedy); the CLI re-signs what is held with the new key
    const ctx = contextFrom({}, io(fx.url))
    const r = await rotateKeyCommand(ctx, {
      did,
      privateKeyFile: keyFile('k.key', key),
      nextPrivateKeyFile: keyFile('k.next', next),
    })
    expect(r.exitCode ?? 0).toBe(0)
    const afterRotate = fx.node.store.agents.get(did)!
    // the documented next step: register again under the new key with the owner's own profile
    const mine = createRegistration({ ...base, name: 'owner', ts: Date.now() + 1000 }, next)
    const again = await fx.call('POST', '/agents/register', {
      name: 'owner',
      publicKey: icp.key,
      proof: { icp, reg: mine },
    })
    const held = fx.node.store.agents.get(did)!
    // measured on the current code: re-signed at ts MAX_TS, name 'thief'; the owner's re-registration does not take
    console.log(
      'R102',
      JSON.stringify({
        stolen: stolen.status,
        regTs: afterRotate.regTs,
        maxTs: afterRotate.regTs === MAX_TS,
        nameAfterRotate: afterRotate.name,
        again: again.status,
        body: again.body,
        json: r.json,
      }),
    )
    expect(held.name).toBe('owner')
  })
})
