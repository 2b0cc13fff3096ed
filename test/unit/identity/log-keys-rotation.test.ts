/**
 * The log and witness keys follow the identity key (decision 0084): the home
 * names the identity key they were made under (`log-keys.identity`, written
 * last), and a node whose identity key is another one makes new keys before
 * it binds any. A crash at any step between comes back consistent: either
 * the old keys under the old identity key, or new ones under the new.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64 } from '../../../node/core/index.js'
import {
  LOG_KEY_FILE,
  LOG_KEYS_IDENTITY_FILE,
  WITNESS_KEY_FILE,
  ensureLogKeys,
  logKeysFor,
} from '../../../node/identity/log-keys.js'
import { tempDir } from '../../helpers/mesh.js'

const homes: Array<{ cleanup(): void }> = []
function home(): string {
  const h = tempDir()
  homes.push(h)
  return h.dir
}
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup()
})

const pub = (k: { publicKey: Uint8Array }): string => toB64(k.publicKey)

describe('log keys follow the identity key', () => {
  it('keeps the keys while the identity key is the one they were made under, and names it in the home', () => {
    const dir = home()
    const id = generateKeyPair()
    const first = logKeysFor(dir, id.publicKey)
    const again = logKeysFor(dir, id.publicKey)
    expect(pub(again.log)).toBe(pub(first.log))
    expect(pub(again.witness)).toBe(pub(first.witness))
    expect(readFileSync(join(dir, LOG_KEYS_IDENTITY_FILE), 'utf8').trim()).toBe(toB64(id.publicKey))
  })

  it('makes new log and witness keys for a new identity key, in files of mode 0600', () => {
    const dir = home()
    const old = logKeysFor(dir, generateKeyPair().publicKey)
    const next = generateKeyPair()
    const made = logKeysFor(dir, next.publicKey)
    expect(pub(made.log)).not.toBe(pub(old.log))
    expect(pub(made.witness)).not.toBe(pub(old.witness))
    expect(pub(ensureLogKeys(dir).log)).toBe(pub(made.log))
    expect(readFileSync(join(dir, LOG_KEYS_IDENTITY_FILE), 'utf8').trim()).toBe(toB64(next.publicKey))
    if (process.platform !== 'win32') {
      for (const f of [LOG_KEY_FILE, WITNESS_KEY_FILE, LOG_KEYS_IDENTITY_FILE]) {
        expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
      }
    }
    expect(pub(logKeysFor(dir, next.publicKey).log)).toBe(pub(made.log)) // and keeps them
  })

  it('a crash after the new log key was written but before the identity file was named makes new ones again', () => {
    const dir = home()
    const old = generateKeyPair()
    const before = logKeysFor(dir, old.publicKey)
    // the crash: log.key replaced, witness.key and log-keys.identity not
    writeFileSync(join(dir, LOG_KEY_FILE), Buffer.from(generateKeyPair().seed).toString('base64') + '\n', {
      mode: 0o600,
    })
    const next = generateKeyPair()
    const after = logKeysFor(dir, next.publicKey)
    expect(pub(after.witness)).not.toBe(pub(before.witness))
    expect(pub(ensureLogKeys(dir).log)).toBe(pub(after.log))
    expect(pub(ensureLogKeys(dir).witness)).toBe(pub(after.witness))
  })

  it('a home from before decision 0084 (no identity file named) keeps its keys and names the identity key', () => {
    const dir = home()
    const legacy = ensureLogKeys(dir)
    expect(existsSync(join(dir, LOG_KEYS_IDENTITY_FILE))).toBe(false)
    const id = generateKeyPair()
    expect(pub(logKeysFor(dir, id.publicKey).log)).toBe(pub(legacy.log))
    expect(readFileSync(join(dir, LOG_KEYS_IDENTITY_FILE), 'utf8').trim()).toBe(toB64(id.publicKey))
  })

  it('a corrupt identity file name is refused (MALFORMED), nothing replaced', () => {
    const dir = home()
    const kept = logKeysFor(dir, generateKeyPair().publicKey)
    writeFileSync(join(dir, LOG_KEYS_IDENTITY_FILE), 'not a key\n', { mode: 0o600 })
    expect(() => logKeysFor(dir, generateKeyPair().publicKey)).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
    expect(pub(ensureLogKeys(dir).log)).toBe(pub(kept.log))
  })
})
