/**
 * The owner of the home folder and of the files holding secrets (review 115
 * F3, decision 0083): a folder, key file or token another user owns is
 * refused with `INSECURE_KEY_FILE`, and so is a symbolic link another user
 * planted in the file's or the folder's place (checked with lstat). Needs
 * root, to give files to another user (uid 65534, `nobody`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chownSync, lchownSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensurePrivateDir, readPrivateFile, writeSecretLine } from '../../../node/identity/secure-fs.js'
import { tempDir } from '../../helpers/mesh.js'
import { OTHER_USER_SKIP } from '../../helpers/other-user.js'

const NOBODY = 65534
let tmp: { dir: string; cleanup: () => void }

beforeEach(() => {
  tmp = tempDir('meshsig-owner-')
})
afterEach(() => tmp.cleanup())

/** The error code `fn` throws, or undefined when it throws none. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

describe.skipIf(OTHER_USER_SKIP !== undefined)('private files owned by another user', () => {
  it('refuses a home folder another user owns, and writes nothing into it', () => {
    const home = join(tmp.dir, 'home')
    mkdirSync(home, { mode: 0o700 })
    chownSync(home, NOBODY, NOBODY)
    expect(codeOf(() => ensurePrivateDir(home))).toBe('INSECURE_KEY_FILE')
    expect(codeOf(() => writeSecretLine(home, join(home, 'api-token'), 'x', false))).toBe('INSECURE_KEY_FILE')
    expect(readdirSync(home)).toEqual([])
  })

  it('refuses a home that is a link another user planted, even to a folder of ours', () => {
    const target = join(tmp.dir, 'ours')
    mkdirSync(target, { mode: 0o700 })
    const home = join(tmp.dir, 'home')
    symlinkSync(target, home)
    lchownSync(home, NOBODY, NOBODY)
    expect(codeOf(() => ensurePrivateDir(home))).toBe('INSECURE_KEY_FILE')
  })

  it('refuses a key file another user owns, and one behind a link another user planted', () => {
    const key = join(tmp.dir, 'custody.key')
    writeFileSync(key, 'secret\n', { mode: 0o600 })
    chownSync(key, NOBODY, NOBODY)
    expect(codeOf(() => readPrivateFile(key))).toBe('INSECURE_KEY_FILE')
    const ours = join(tmp.dir, 'ours.key')
    writeFileSync(ours, 'secret\n', { mode: 0o600 })
    const planted = join(tmp.dir, 'planted.key')
    symlinkSync(ours, planted)
    lchownSync(planted, NOBODY, NOBODY)
    expect(codeOf(() => readPrivateFile(planted))).toBe('INSECURE_KEY_FILE')
  })

  it('still reads our own file, and our own link to it (a mounted secret)', () => {
    const key = join(tmp.dir, 'custody.key')
    writeFileSync(key, 'secret\n', { mode: 0o600 })
    const link = join(tmp.dir, 'link.key')
    symlinkSync(key, link)
    expect(readPrivateFile(link)).toBe('secret\n')
    const home = join(tmp.dir, 'home')
    mkdirSync(home, { mode: 0o700 })
    expect(codeOf(() => ensurePrivateDir(home))).toBeUndefined()
  })
})
