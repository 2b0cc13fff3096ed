/**
 * Review 122 (decision 0084): a home from before 0084 whose owner already ran
 * `meshsig rotate-key` (the very case review 119 F2 was about: the owner rotated
 * because the home leaked) keeps the thief's log key after the upgrade: with no
 * `log-keys.identity`, logKeysFor takes the old log.key as made under the CURRENT
 * identity key and writes that name, so the new binding vouches for the stolen key.
 * The identity file's own key log shows the rotation, so the node could tell.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { keyPairFromSeed, toB64 } from '../../../node/core/index.js'
import { createIdentity, loadIdentity, rotateIdentity } from '../../../node/identity/index.js'
import { ensureLogKeys, LOG_KEY_FILE } from '../../../node/identity/log-keys.js'
import type { MeshNode } from '../../../node/mesh-node.js'
import { startNode, stopAll, tempDir } from '../../helpers/mesh.js'

describe('review 122: a pre-0084 home that rotated before the upgrade', () => {
  const home = tempDir()
  let a: MeshNode | undefined
  afterAll(async () => {
    await stopAll([a])
    home.cleanup()
  })

  it('does not bind the log key a thief copied before the rotation', async () => {
    createIdentity(home.dir)
    ensureLogKeys(home.dir) // what a node before 0084 made at init / first start
    const stolen = readFileSync(join(home.dir, LOG_KEY_FILE), 'utf8').trim() // the thief copies the home
    const stolenPub = toB64(keyPairFromSeed(new Uint8Array(Buffer.from(stolen, 'base64'))).publicKey)
    rotateIdentity(home.dir) // the owner rotates, still before 0084
    const identity = loadIdentity(home.dir)
    expect(identity.keyState.priorKeys.length).toBe(1) // the file itself shows the rotation
    // the upgraded node starts on this home
    a = await startNode({ identity, home: home.dir, dbPath: join(home.dir, 'node.db') })
    const binding = a.witness.binding()
    expect(binding.logKey).not.toBe(stolenPub)
  }, 60_000)
})
