/**
 * A `--private-key-file` that is no regular file is refused at once (exit 2,
 * MALFORMED), never waited on: a FIFO used to be opened before its type was
 * checked, and opening a FIFO for reading blocks until a writer comes, so
 * `meshsig revoke` and `meshsig rotate-key` hung for ever (attack review 61).
 * The file is now opened without blocking (node/identity/secure-fs.ts) and
 * refused from the open file's type; a symbolic link to a 0600 key file is
 * still read (mounted secrets often are links).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey } from '../../node/core/did.js'
import { toB64 } from '../../node/core/encoding.js'
import { generateKeyPair } from '../../node/core/keys.js'
import { readPrivateFile } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'
import { buildCli, type BuiltCli } from './build-cli.js'

const root = tempDir('meshsig-key-file-type-')
let cli: BuiltCli

beforeAll(() => {
  cli = buildCli()
}, 120_000)

afterAll(() => {
  cli?.cleanup()
  root.cleanup()
})

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly timedOut: boolean
}

/** Run the CLI with no node behind --server; killed after `ms` (a hang is a failure, not a stuck suite). */
function run(args: string[], ms: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: join(root.dir, 'home'), MESHSIG_SERVER: 'http://127.0.0.1:9' },
    })
    let stdout = ''
    let timedOut = false
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, ms)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, timedOut })
    })
    child.stdin.end('')
  })
}

describe('--private-key-file that is not a regular file', () => {
  it('a FIFO is refused at once by revoke and rotate-key: exit 2, MALFORMED naming the file', async () => {
    const fifo = join(root.dir, 'agent.key')
    execFileSync('mkfifo', ['-m', '600', fifo])
    const did = didFromPublicKey(generateKeyPair().publicKey)
    const revoke = await run(['revoke', did, '--reason', 'x', '--private-key-file', fifo, '--json'], 5_000)
    const rotate = await run(['rotate-key', '--did', did, '--private-key-file', fifo, '--json'], 5_000)
    for (const r of [revoke, rotate]) {
      expect(r.timedOut).toBe(false)
      expect(r.code).toBe(2)
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 'MALFORMED', error: expect.stringContaining(fifo) })
    }
  }, 30_000)

  it('a folder is refused as MALFORMED; a symbolic link to a 0600 key file is read', () => {
    const folder = join(root.dir, 'a-folder')
    mkdirSync(folder, { mode: 0o700 })
    expect(() => readPrivateFile(folder)).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
    const seed = toB64(generateKeyPair().seed)
    const target = join(root.dir, 'real.key')
    writeFileSync(target, seed + '\n', { mode: 0o600 })
    const link = join(root.dir, 'linked.key')
    symlinkSync(target, link)
    expect(readPrivateFile(link)?.trim()).toBe(seed)
  })
})
