import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/app.js'
import { prepareArgv, unwrapOptions, unwrapValue } from '../../cli/argv.js'
import { DEFAULT_SERVER, contextFrom, type CliIo } from '../../cli/context.js'
import { describeError } from '../../cli/output.js'
import { MeshsigError, verify } from '../../node/index.js'

interface FakeIo extends CliIo {
  out: string
  err: string
}

function fakeIo(env: Record<string, string | undefined>, stdin: Uint8Array = new Uint8Array()): FakeIo {
  const io: FakeIo = {
    out: '',
    err: '',
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    readStdin: async () => stdin,
    env,
    now: () => 1_764_000_000_000,
  }
  return io
}

let home: string
beforeEach(() => {
  home = join(mkdtempSync(join(tmpdir(), 'meshsig-app-')), 'home')
})
afterEach(() => rmSync(join(home, '..'), { recursive: true, force: true }))

const run = (io: CliIo, ...args: string[]): Promise<number> => runCli(['node', 'meshsig', ...args], io)

describe('argv hygiene', () => {
  it('wraps numeric-looking tokens and "-" so cac leaves them as text; splits off "--"', () => {
    const { parse, trailing } = prepareArgv(['node', 'm', 'sign', '1e3', '-', '--json', '--', '-x', '5'])
    expect(parse.slice(0, 3)).toEqual(['node', 'm', 'sign'])
    expect(parse.slice(3).map(unwrapValue)).toEqual(['1e3', '-', '--json'])
    expect(parse[3]).not.toBe('1e3')
    expect(trailing).toEqual(['-x', '5'])
    expect(unwrapOptions({ home: parse[3], json: true, list: [parse[4]] })).toEqual({
      home: '1e3',
      json: true,
      list: ['-'],
    })
  })

  it('resolves --server and --home: flag, then environment, then default', () => {
    const io = fakeIo({ MESHSIG_SERVER: 'http://env:1', MESHSIG_HOME: '/env/home' })
    expect(contextFrom({}, io)).toMatchObject({ server: 'http://env:1', home: '/env/home', json: false })
    expect(contextFrom({ server: 'http://flag:2', home: '/flag', json: true }, io)).toMatchObject({
      server: 'http://flag:2',
      home: '/flag',
      json: true,
    })
    expect(contextFrom({}, fakeIo({})).server).toBe(DEFAULT_SERVER)
  })

  it('maps errors to codes and exit codes from the one table', () => {
    expect(describeError(new MeshsigError('UNREACHABLE', 'down'))).toMatchObject({ code: 'UNREACHABLE', exit: 3 })
    expect(describeError(new MeshsigError('NOT_FOUND', 'no'))).toMatchObject({ code: 'NOT_FOUND', exit: 1 })
    expect(describeError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', exit: 1 })
    const usage = Object.assign(new Error('Unknown option `--x`'), { name: 'CACError' })
    expect(describeError(usage)).toMatchObject({ code: 'INVALID_INPUT', exit: 2 })
  })
})

describe('runCli in-process', () => {
  it('init, sign and verify with stdin bytes, JSON on stdout', async () => {
    const io = fakeIo({ MESHSIG_HOME: home })
    expect(await run(io, 'init', '--json')).toBe(0)
    const id = JSON.parse(io.out) as { did: string; publicKey: string }
    const bytes = new Uint8Array([0xaf, 0x82, 0x0a])
    const signIo = fakeIo({ MESHSIG_HOME: home }, bytes)
    expect(await run(signIo, 'sign', '-', '--json')).toBe(0)
    const { signature } = JSON.parse(signIo.out) as { signature: string }
    expect(await verify(bytes, signature, id.did)).toBe(true)
    const verifyIo = fakeIo({ MESHSIG_HOME: home }, bytes)
    expect(await run(verifyIo, 'verify', '-', signature, id.publicKey, '--json')).toBe(0)
    expect(JSON.parse(verifyIo.out)).toMatchObject({ valid: true, keySource: 'public key' })
  })

  it('errors print {error, code} on stdout with --json and ✗ on stderr without', async () => {
    const jsonIo = fakeIo({ MESHSIG_HOME: home })
    expect(await run(jsonIo, 'identity', '--json')).toBe(2)
    expect(JSON.parse(jsonIo.out)).toMatchObject({ code: 'NO_IDENTITY' })
    expect(jsonIo.err).toBe('')
    const humanIo = fakeIo({ MESHSIG_HOME: home })
    expect(await run(humanIo, 'identity')).toBe(2)
    expect(humanIo.out).toBe('')
    expect(humanIo.err).toMatch(/^✗ no identity in .*; run meshsig init\n$/)
  })

  it('no command with --json is a usage error', async () => {
    const io = fakeIo({ MESHSIG_HOME: home })
    expect(await run(io, '--json')).toBe(2)
    expect(JSON.parse(io.out)).toMatchObject({ code: 'INVALID_INPUT' })
  })
})
