import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { keyCommitment, replayKeyEvents, toB64 } from '../../../node/core/index.js'
import {
  createIdentity,
  identityRevocation,
  loadIdentity,
  recordIdentityRevocation,
  rotateIdentity,
} from '../../../node/identity/index.js'
import { tempDir } from '../../helpers/mesh.js'

describe('rotation and revocation of the identity in a meshsig home', () => {
  it('rotates to the committed next key, commits to a fresh one, keeps the DID; the file stays 0600 and replays', () => {
    const home = tempDir()
    try {
      const first = createIdentity(home.dir)
      const { identity, previous, rotation } = rotateIdentity(home.dir, { now: 1_764_000_000_000 })
      expect(previous.did).toBe(first.did)
      expect(identity.did).toBe(first.did)
      expect(identity.file.privateKey).toBe(first.file.nextPrivateKey)
      expect(rotation).toMatchObject({ type: 'rot', did: first.did, seq: 1, key: identity.file.publicKey })
      expect(rotation.next).toBe(keyCommitment(identity.nextKeyPair.publicKey))
      expect(statSync(join(home.dir, 'identity.json')).mode & 0o777).toBe(0o600)
      const again = rotateIdentity(home.dir)
      expect(again.rotation.seq).toBe(2)
      const reloaded = loadIdentity(home.dir)
      expect(reloaded.file.keyLog).toHaveLength(3)
      expect(replayKeyEvents(reloaded.file.keyLog).key).toBe(toB64(reloaded.keyPair.publicKey))
      expect(readFileSync(join(home.dir, 'identity.json'), 'utf8')).not.toContain(first.file.privateKey)
    } finally {
      home.cleanup()
    }
  })

  it('a recorded revocation is final: the file keeps it once and no rotation follows', () => {
    const home = tempDir()
    try {
      const identity = createIdentity(home.dir)
      const rev = identityRevocation(identity, 'decommissioned')
      const revoked = recordIdentityRevocation(home.dir, rev)
      expect(revoked.keyState.revoked).toMatchObject({ reason: 'decommissioned', by: 'self' })
      expect(recordIdentityRevocation(home.dir, rev).file.keyLog).toHaveLength(2)
      expect(() => rotateIdentity(home.dir)).toThrow(expect.objectContaining({ code: 'REVOKED' }))
      expect(loadIdentity(home.dir).file.keyLog).toHaveLength(2)
    } finally {
      home.cleanup()
    }
  })
})
