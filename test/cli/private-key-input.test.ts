/**
 * No seed on a command line (docs/api.md, CLI): `--private-key` and
 * `--next-private-key` take "-" (stdin) or a `-file PATH` only its owner can
 * read; a literal seed is refused with INVALID_INPUT and one line saying how.
 * Checked on `readKeyOptions` and on real `meshsig` processes against a node;
 * and `meshsig start` with the wrong custody key stops with a clear message,
 * no stack trace.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveApi, type ServedApi } from '../../api/server.js'
import { generateKeyPair, toB64, type KeyPair } from '../../node/core/index.js'
import { createIdentity, custodyKeyPath, loadIdentity, writeFileAtomic } from '../../node/identity/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { CliIo } from '../../cli/context.js'
import { readKeyOptions } from '../../cli/key-input.js'
import { testConfig } from '../api/api-fixture.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { freePort, startProcess } from '../helpers/node-process.js'
import { ownAgent } from '../integration/keys-fixture.js'
import { buildCli, type BuiltCli } from './build-cli.js'

const root = tempDir('meshsig-key-input-')

function io(stdin = ''): CliIo {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: () => Promise.resolve(new Uint8Array(Buffer.from(stdin))),
    env: {},
    now: () => Date.now(),
  }
}

/** A file holding `key`'s b64 seed, with `mode`. */
function keyFile(name: string, key: KeyPair, mode: number): string {
  const path = join(root.dir, name)
  writeFileSync(path, toB64(key.seed) + '\n', { mode })
  return path
}

const pub = (k: KeyPair | undefined): string | undefined => (k ? toB64(k.publicKey) : undefined)

describe('readKeyOptions', () => {
  const a = generateKeyPair()
  const b = generateKeyPair()

  it('refuses a literal seed with INVALID_INPUT and one line naming both ways, before reading anything', async () => {
    const err = await readKeyOptions(io(), [{ name: '--private-key', value: toB64(a.seed), file: undefined }]).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'INVALID_INPUT' })
    const message = (err as Error).message
    expect(message).not.toContain('\n')
    expect(message).toContain('--private-key -')
    expect(message).toContain('--private-key-file PATH')
    expect(message).not.toContain(toB64(a.seed))
  })

  it('reads "-" from stdin, in order, and a 0600 file; refuses a file others can read, a missing one, and both forms', async () => {
    const both = await readKeyOptions(io(`${toB64(a.seed)}\n${toB64(b.seed)}\n`), [
      { name: '--private-key', value: '-', file: undefined },
      { name: '--next-private-key', value: '-', file: undefined },
    ])
    expect(both.map(pub)).toEqual([pub(a), pub(b)])
    const fromFile = await readKeyOptions(io(`${toB64(b.seed)}`), [
      { name: '--private-key', value: undefined, file: keyFile('a.key', a, 0o600) },
      { name: '--next-private-key', value: '-', file: undefined },
      { name: '--other', value: undefined, file: undefined },
    ])
    expect(fromFile.map(pub)).toEqual([pub(a), pub(b), undefined])
    const open = keyFile('open.key', a, 0o644)
    await expect(readKeyOptions(io(), [{ name: '--private-key', value: undefined, file: open }])).rejects.toMatchObject(
      { code: 'INSECURE_KEY_FILE', message: expect.stringContaining(`chmod 600 ${open}`) },
    )
    const missing = join(root.dir, 'missing.key')
    await expect(
      readKeyOptions(io(), [{ name: '--private-key', value: undefined, file: missing }]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(
      readKeyOptions(io(toB64(a.seed)), [{ name: '--private-key', value: '-', file: keyFile('x.key', a, 0o600) }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})

describe('meshsig rotate-key and revoke as processes', () => {
  let cli: BuiltCli
  let node: MeshNode | undefined
  let api: ServedApi | undefined
  const home = join(root.dir, 'home')

  function meshsig(args: string[], input = '', env: Record<string, string> = {}) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli.main, ...args], {
        env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home, ...env },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(input)
    })
  }
  const online = (...args: string[]): string[] => [...args, '--server', api!.url]

  beforeAll(async () => {
    cli = buildCli()
    createIdentity(home)
    node = await startNode({ identity: loadIdentity(home), home })
    api = await serveApi(node, testConfig(), { verifyWorkers: 0 })
  }, 120_000)
  afterAll(async () => {
    await api?.close()
    await stopAll([node])
    cli?.cleanup()
    root.cleanup()
  })

  it('a literal seed is refused (exit 2, one line, the seed not echoed) and nothing changes', async () => {
    const agent = await ownAgent(node!, 'literal')
    const seed = toB64(agent.key.seed)
    for (const args of [
      online('rotate-key', '--did', agent.did, '--private-key', seed),
      online('rotate-key', '--did', agent.did, '--private-key', '-', '--next-private-key', toB64(agent.next.seed)),
      online('revoke', agent.did, '--reason', 'x', '--private-key', seed),
    ]) {
      const r = await meshsig(args, `${seed}\n`)
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/does not take a key on the command line.*- .*stdin.*-file PATH/)
      expect(r.stdout + r.stderr).not.toContain(seed)
    }
    expect(node!.store.keyEvents.state(agent.did)!.seq).toBe(0)
    expect(node!.store.keyEvents.state(agent.did)!.revoked).toBeNull()
  })

  it('rotates with both keys from 0600 files, and revokes with the key from stdin', async () => {
    const agent = await ownAgent(node!, 'from-files')
    const current = keyFile('current.key', agent.key, 0o600)
    const next = keyFile('next.key', agent.next, 0o600)
    const args = ['rotate-key', '--did', agent.did, '--private-key-file', current, '--next-private-key-file', next]
    const r = await meshsig(online(...args, '--json'))
    expect(r.code, r.stderr).toBe(0)
    expect(node!.store.keyEvents.state(agent.did)!.key).toBe(toB64(agent.next.publicKey))
    const rev = await meshsig(
      online('revoke', agent.did, '--reason', 'done', '--private-key', '-'),
      toB64(agent.next.seed),
    )
    expect(rev.code, rev.stderr).toBe(0)
    expect(node!.store.keyEvents.state(agent.did)!.revoked).not.toBeNull()
  })

  it('a key file other users can read is refused with the chmod fix', async () => {
    const agent = await ownAgent(node!, 'open-file')
    const open = keyFile('open-cli.key', agent.key, 0o640)
    const r = await meshsig(online('revoke', agent.did, '--reason', 'x', '--private-key-file', open))
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`chmod 600 ${open}`)
    expect(node!.store.keyEvents.state(agent.did)!.revoked).toBeNull()
  })

  it('meshsig start with the wrong custody key stops with KEY_MISMATCH: one clear line, no stack', async () => {
    const home2 = join(root.dir, 'home2')
    createIdentity(home2)
    const first = await startNode({ identity: loadIdentity(home2), home: home2, dbPath: join(home2, 'meshsig.db') })
    await first.registerAgent('kept')
    await first.stop()
    writeFileAtomic(custodyKeyPath(home2), Buffer.alloc(32, 9).toString('base64') + '\n')
    const proc = startProcess(cli, home2, await freePort())
    const code = await proc.exited()
    expect(code).toBe(1)
    expect(proc.output()).toContain(`the custody key (${custodyKeyPath(home2)}) does not open the custodied key`)
    expect(proc.output()).not.toMatch(/^\s+at /m)
  }, 60_000)
})
