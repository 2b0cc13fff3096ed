import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  keyCommitment,
  toB64,
  type MeshsigError,
} from '../../../node/index.js'
import {
  apiTokenMatches,
  apiTokenPath,
  createApiToken,
  createIdentity,
  replaceIdentity,
  ensureApiToken,
  identityExists,
  identityPath,
  loadIdentity,
  publicIdentity,
  readApiToken,
  resolveHome,
  saveIdentity,
  type IdentityFile,
} from '../../../node/identity/index.js'

let root: string
let home: string

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'meshsig-identity-'))
  home = join(root, 'home')
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function errorOf(fn: () => unknown): MeshsigError | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return err as MeshsigError
  }
}

const mode = (path: string): number => statSync(path).mode & 0o777

describe('resolveHome', () => {
  it('prefers the explicit folder, then MESHSIG_HOME, then ~/.meshsig', () => {
    expect(resolveHome('/a/b', { MESHSIG_HOME: '/c' })).toBe('/a/b')
    expect(resolveHome(undefined, { MESHSIG_HOME: '/c' })).toBe('/c')
    expect(resolveHome(undefined, { MESHSIG_HOME: '' })).toMatch(/\.meshsig$/)
    expect(resolveHome(undefined, {})).toMatch(/\.meshsig$/)
  })
})

describe('createIdentity / loadIdentity', () => {
  it('writes identity.json 0600 in a 0700 folder, atomically (no temp files left)', () => {
    createIdentity(home)
    expect(mode(home)).toBe(0o700)
    expect(mode(identityPath(home))).toBe(0o600)
    expect(readdirSync(home)).toEqual(['identity.json'])
  })

  it('holds the documented fields; the inception commits to the stored next key', () => {
    const identity = createIdentity(home, { now: 1_764_000_000_000 })
    const file = JSON.parse(readFileSync(identityPath(home), 'utf8')) as IdentityFile
    expect(Object.keys(file).sort()).toEqual(
      ['createdAt', 'did', 'inception', 'keyLog', 'nextPrivateKey', 'privateKey', 'publicKey', 'version'].sort(),
    )
    expect(file.did).toBe(didFromPublicKey(identity.keyPair.publicKey))
    expect(file.createdAt).toBe('2025-11-24T16:00:00.000Z')
    expect(file.inception.next).toBe(keyCommitment(identity.nextKeyPair.publicKey))
    expect(file.inception.key).toBe(file.publicKey)
    expect(file.keyLog).toHaveLength(1)
    expect(envelopeId(file.keyLog[0]!)).toBe(envelopeId(file.inception))
    expect(file.nextPrivateKey).not.toBe(file.privateKey)
  })

  it('loads what it wrote', () => {
    const made = createIdentity(home)
    const loaded = loadIdentity(home)
    expect(loaded.did).toBe(made.did)
    expect(toB64(loaded.keyPair.publicKey)).toBe(toB64(made.keyPair.publicKey))
    expect(loaded.keyState.seq).toBe(0)
  })

  it('refuses to overwrite without force (ALREADY_EXISTS), replaces with force', async () => {
    const first = createIdentity(home)
    const err = errorOf(() => createIdentity(home))
    expect(err?.code).toBe('ALREADY_EXISTS')
    expect(err?.message).toMatch(/--force/)
    expect(loadIdentity(home).did).toBe(first.did)
    const second = await replaceIdentity(home)
    expect(second.did).not.toBe(first.did)
    expect(loadIdentity(home).did).toBe(second.did)
    expect(mode(identityPath(home))).toBe(0o600)
  })

  it('says NO_IDENTITY and how to fix it when there is none', () => {
    const err = errorOf(() => loadIdentity(home))
    expect(err?.code).toBe('NO_IDENTITY')
    expect(err?.message).toMatch(/run meshsig init/)
    expect(identityExists(home)).toBe(false)
  })

  it('refuses a key file group or others can access (INSECURE_KEY_FILE, chmod 600 hint)', () => {
    createIdentity(home)
    for (const loose of [0o644, 0o640, 0o604, 0o620]) {
      chmodSync(identityPath(home), loose)
      const err = errorOf(() => loadIdentity(home))
      expect(err?.code).toBe('INSECURE_KEY_FILE')
      expect(err?.message).toContain(`chmod 600 ${identityPath(home)}`)
    }
    chmodSync(identityPath(home), 0o600)
    expect(loadIdentity(home).did).toMatch(/^did:msig:/)
  })

  it('refuses to write into an existing folder open to others (chmod 700 hint)', () => {
    mkdirSync(home, { mode: 0o755 })
    chmodSync(home, 0o755)
    const err = errorOf(() => createIdentity(home))
    expect(err?.code).toBe('INSECURE_KEY_FILE')
    expect(err?.message).toContain(`chmod 700 ${home}`)
  })

  it('reports a corrupt or inconsistent file as MALFORMED naming the path', () => {
    createIdentity(home)
    const path = identityPath(home)
    const good = readFileSync(path, 'utf8')
    const file = JSON.parse(good) as IdentityFile
    const other = generateKeyPair()
    const variants: string[] = [
      '{not json',
      JSON.stringify({ ...file, version: 2 }),
      JSON.stringify({ ...file, publicKey: toB64(other.publicKey) }),
      JSON.stringify({ ...file, privateKey: toB64(other.seed) }),
      JSON.stringify({ ...file, nextPrivateKey: toB64(other.seed) }),
      JSON.stringify({ ...file, privateKey: 'short' }),
      JSON.stringify({ ...file, keyLog: [] }),
    ]
    for (const text of variants) {
      writeFileSync(path, text, { mode: 0o600 })
      const err = errorOf(() => loadIdentity(home))
      expect(err?.code, text.slice(0, 40)).toBe('MALFORMED')
      expect(err?.message).toContain(path)
    }
  })

  it('publicIdentity shows did, didKey, peerId, publicKey, createdAt and no private key', () => {
    const identity = createIdentity(home)
    const pub = publicIdentity(identity)
    expect(Object.keys(pub).sort()).toEqual(['createdAt', 'did', 'didKey', 'peerId', 'publicKey'])
    const text = JSON.stringify(pub)
    expect(text).not.toContain(identity.file.privateKey)
    expect(text).not.toContain(identity.file.nextPrivateKey)
  })
})

describe('saveIdentity (the shape rotation will use)', () => {
  it('keeps the DID while the key log grows and the current key changes', () => {
    const identity = createIdentity(home)
    const after = generateKeyPair()
    const rot = createRotation(identity.keyState, identity.keyPair, identity.nextKeyPair, Date.now(), after)
    const file: IdentityFile = {
      ...identity.file,
      publicKey: toB64(identity.nextKeyPair.publicKey),
      privateKey: toB64(identity.nextKeyPair.seed),
      nextPrivateKey: toB64(after.seed),
      keyLog: [...identity.file.keyLog, rot],
    }
    saveIdentity(home, file)
    const loaded = loadIdentity(home)
    expect(loaded.did).toBe(identity.did)
    expect(loaded.keyState.seq).toBe(1)
    expect(toB64(loaded.keyPair.publicKey)).toBe(toB64(identity.nextKeyPair.publicKey))
    expect(publicIdentity(loaded).didKey).not.toBe(publicIdentity(identity).didKey)
  })

  it('refuses to save an inconsistent file', () => {
    const identity = createIdentity(home)
    const broken = { ...identity.file, publicKey: toB64(generateKeyPair().publicKey) }
    expect(errorOf(() => saveIdentity(home, broken))?.code).toBe('MALFORMED')
    expect(loadIdentity(home).did).toBe(identity.did)
  })
})

describe('API token', () => {
  it('is 32 random bytes as base64url in a 0600 file', () => {
    const token = createApiToken(home)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect(mode(apiTokenPath(home))).toBe(0o600)
    expect(readApiToken(home)).toBe(token)
    expect(ensureApiToken(home)).toBe(token)
    expect(createApiToken(home)).not.toBe(token)
  })

  it('is undefined when missing, made by ensureApiToken, refused when readable by others', () => {
    expect(readApiToken(home)).toBeUndefined()
    const token = ensureApiToken(home)
    expect(readApiToken(home)).toBe(token)
    chmodSync(apiTokenPath(home), 0o644)
    expect(errorOf(() => readApiToken(home))?.code).toBe('INSECURE_KEY_FILE')
  })

  it('compares in constant time and exactly', () => {
    const token = createApiToken(home)
    expect(apiTokenMatches(token, token)).toBe(true)
    expect(apiTokenMatches(token, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBe(false)
    expect(apiTokenMatches(token, token + 'x')).toBe(false)
    expect(apiTokenMatches(token, '')).toBe(false)
  })
})
