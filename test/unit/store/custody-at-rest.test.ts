/**
 * Custodied seeds sealed at rest (docs/protocol.md §2, decision 0011): the
 * repository speaks b64 seeds, the file holds AES-256-GCM ciphertext bound to
 * DID and field; a wrong key is refused clearly; migration 6 seals the
 * plaintext rows of an older database and leaves none of it in the file.
 */
import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64 } from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function dbPath(): string {
  const { dir, cleanup } = tempDir('meshsig-custody-')
  cleanups.push(cleanup)
  return `${dir}/meshsig.db`
}

function open(path: string, custodyKey?: Uint8Array): Store {
  const store = openStore({ path, ...(custodyKey ? { custodyKey } : {}) })
  cleanups.unshift(() => {
    try {
      store.close()
    } catch {
      // closed by the test
    }
  })
  return store
}

function agent(n: number): { did: string; seed: string; nextSeed: string; createdAt: number; profile: null } {
  return {
    did: `did:msig:agent${n}`,
    seed: toB64(generateKeyPair().seed),
    nextSeed: toB64(generateKeyPair().seed),
    createdAt: 1000 + n,
    profile: null,
  }
}

/** Every file of the database, concatenated. */
function fileBytes(path: string): Buffer {
  return Buffer.concat(['', '-wal', '-shm'].filter((s) => existsSync(path + s)).map((s) => readFileSync(path + s)))
}

function expectAbsent(bytes: Buffer, seedB64: string): void {
  expect(bytes.includes(Buffer.from(seedB64, 'utf8')), `b64 seed ${seedB64.slice(0, 6)}… found`).toBe(false)
  expect(bytes.includes(Buffer.from(seedB64, 'base64')), `raw seed ${seedB64.slice(0, 6)}… found`).toBe(false)
}

describe('custodied seeds at rest', () => {
  it('round-trip through the repository in b64, stored as 61-byte sealed BLOBs; replaced on rotation', () => {
    const path = dbPath()
    const key = new Uint8Array(randomBytes(32))
    const store = open(path, key)
    const rows = [agent(1), agent(2)]
    for (const r of rows) store.custody.put(r)
    expect(store.custody.get(rows[0]!.did)).toEqual(rows[0])
    const rotated = { ...rows[0]!, seed: rows[0]!.nextSeed, nextSeed: toB64(generateKeyPair().seed) }
    store.custody.put(rotated)
    expect(store.custody.get(rotated.did)).toEqual(rotated)
    store.close()
    const raw = new Database(path, { readonly: true })
    const sealed = raw.prepare('SELECT seed, next_seed FROM custody').all() as { seed: Buffer; next_seed: Buffer }[]
    raw.close()
    expect(sealed.map((s) => [s.seed.length, s.next_seed.length])).toEqual([
      [61, 61],
      [61, 61],
    ])
    const again = open(path, key)
    expect(again.custody.get(rows[1]!.did)).toEqual(rows[1])
    for (const r of [...rows, rotated]) for (const s of [r.seed, r.nextSeed]) expectAbsent(fileBytes(path), s)
  })

  it('a sealed value moved to another row or field does not open (the DID and field are bound)', () => {
    const path = dbPath()
    const key = new Uint8Array(randomBytes(32))
    const [a, b, c] = [agent(1), agent(2), agent(3)]
    const store = open(path, key)
    for (const r of [a, b, c]) store.custody.put(r)
    store.close()
    const raw = new Database(path)
    raw.exec(`UPDATE custody SET seed = (SELECT seed FROM custody WHERE did = '${a.did}') WHERE did = '${b.did}'`)
    raw.exec(`UPDATE custody SET seed = next_seed WHERE did = '${c.did}'`)
    raw.close()
    const again = open(path, key)
    expect(again.custody.get(a.did)).toEqual(a)
    for (const did of [b.did, c.did]) {
      expect(() => again.custody.get(did)).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }))
    }
  })

  it('a wrong custody key is refused at open with KEY_MISMATCH and a message naming the key; the rows stay', () => {
    const path = dbPath()
    const key = new Uint8Array(randomBytes(32))
    const a = agent(1)
    const store = open(path, key)
    store.custody.put(a)
    store.close()
    const wrong = new Uint8Array(randomBytes(32))
    let error: unknown
    try {
      openStore({ path, custodyKey: wrong, custodyKeySource: '/somewhere/custody.key' })
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ name: 'MeshsigError', code: 'KEY_MISMATCH' })
    expect((error as Error).message).toMatch(
      /custody key \(\/somewhere\/custody\.key\) does not open the custodied key of did:msig:agent1/,
    )
    expect(open(path, key).custody.get(a.did)).toEqual(a)
  })

  it('reads follow the stored row: a rolled-back replacement is not seen, a committed one is', () => {
    const store = open(':memory:')
    const a = agent(1)
    store.custody.put(a)
    expect(store.custody.get(a.did)).toEqual(a)
    const replaced = { ...a, seed: a.nextSeed, nextSeed: null }
    expect(() =>
      store.transaction(() => {
        store.custody.put(replaced)
        expect(store.custody.get(a.did)).toEqual(replaced)
        throw new Error('roll back')
      }),
    ).toThrow('roll back')
    expect(store.custody.get(a.did)).toEqual(a)
    store.custody.put(replaced)
    expect(store.custody.get(a.did)).toEqual(replaced)
  })

  it('an in-memory store without a key seals with a random key of the process', () => {
    const store = open(':memory:')
    const a = agent(1)
    store.custody.put(a)
    expect(store.custody.get(a.did)).toEqual(a)
    expect(store.custody.forget(a.did)).toBe(true)
    expect(store.custody.get(a.did)).toBeUndefined()
  })
})

/** A database as schema 5 left it: plaintext custody rows. */
function legacyDatabase(path: string, rows: ReturnType<typeof agent>[]): void {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  for (let v = 0; v < 5; v++) db.exec(MIGRATIONS[v] as string)
  db.pragma('user_version = 5')
  const put = db.prepare('INSERT INTO custody (did, seed, next_seed, created_at) VALUES (?, ?, ?, ?)')
  for (const r of rows) put.run(r.did, r.seed, r.nextSeed, r.createdAt)
  db.close()
}

describe('migration 6: plaintext custody rows sealed', () => {
  it('seals every row on the first open with a key; no plaintext seed is left in the file, WAL or SHM', () => {
    const path = dbPath()
    const rows = [agent(1), agent(2), agent(3)]
    legacyDatabase(path, rows)
    expect(fileBytes(path).includes(Buffer.from(rows[0]!.seed))).toBe(true) // the check below can see a seed
    const key = new Uint8Array(randomBytes(32))
    const store = open(path, key)
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    for (const r of rows) expect(store.custody.get(r.did)).toEqual(r)
    // while the store is open (WAL in use) and after it closed
    for (const r of rows) for (const s of [r.seed, r.nextSeed]) expectAbsent(fileBytes(path), s)
    store.close()
    for (const r of rows) for (const s of [r.seed, r.nextSeed]) expectAbsent(fileBytes(path), s)
    expect(open(path, key).custody.get(rows[2]!.did)).toEqual(rows[2])
  })

  it('refuses to open plaintext rows without a key (INVALID_INPUT), and changes nothing', () => {
    const path = dbPath()
    legacyDatabase(path, [agent(1)])
    expect(() => openStore({ path })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    const raw = new Database(path, { readonly: true })
    expect(raw.pragma('user_version', { simple: true })).toBe(5)
    raw.close()
  })
})
