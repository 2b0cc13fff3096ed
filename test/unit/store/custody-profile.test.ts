/**
 * The name and capabilities a node registered a custodied agent with are kept on its custody row (decision
 * 0057): a rotation's `put` keeps them, and migration 17 fills them for older rows from the registration each
 * agent's row holds.
 */
import { databaseAtSchema } from '../../helpers/schema-at.js'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64 } from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function dbPath(): string {
  const { dir, cleanup } = tempDir('meshsig-profile-')
  cleanups.push(cleanup)
  return `${dir}/meshsig.db`
}

const seed = (): string => toB64(generateKeyPair().seed)

describe('a custodied agent’s profile', () => {
  it('is stored at registration and kept by a rotation’s put, which names none', () => {
    const store = openStore({ path: dbPath(), custodyKey: new Uint8Array(randomBytes(32)) })
    cleanups.unshift(() => store.close())
    const profile = { name: 'planner', capabilities: [{ type: 'plan', confidence: 0.9 }] }
    store.custody.put({ did: 'did:msig:a', seed: seed(), nextSeed: seed(), createdAt: 1, profile })
    store.custody.put({ did: 'did:msig:a', seed: seed(), nextSeed: seed(), createdAt: 1 })
    expect(store.custody.get('did:msig:a')?.profile).toEqual(profile)
  })

  it('migration 17 takes an older row’s from its agent’s stored registration; a row without one has none', () => {
    const db = databaseAtSchema(dbPath(), 16)
    const reg = { v: 1, type: 'reg', did: 'did:msig:a', name: 'planner', capabilities: [{ type: 'plan' }] }
    db.prepare(
      `INSERT INTO agents (did, name, capabilities, controller, peer_id, origin, reg_id, reg_envelope, reg_ts, created_at, last_seen_at)
       VALUES ('did:msig:a', 'shown', '[]', 'did:msig:node', 'p', 'local', 'r', ?, 1, 1, 1)`,
    ).run(JSON.stringify(reg))
    const custody = db.prepare('INSERT INTO custody (did, seed, next_seed, created_at) VALUES (?, ?, NULL, 1)')
    custody.run('did:msig:a', Buffer.alloc(61))
    custody.run('did:msig:gone', Buffer.alloc(61))
    db.exec(MIGRATIONS[16] as string)
    const rows = db.prepare('SELECT did, profile FROM custody ORDER BY did').all() as { did: string; profile: string }[]
    db.close()
    expect(JSON.parse(rows[0]!.profile)).toEqual({ name: 'planner', capabilities: [{ type: 'plan' }] })
    expect(rows[1]!.profile).toBeNull()
  })
})
