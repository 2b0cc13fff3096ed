import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verify } from '../../node/index.js'
import { RFC8032_VECTORS, hex, hexToB64, utf8Message } from '../unit/sdk/rfc8032-vectors.js'
import { buildCli, type BuiltCli } from './build-cli.js'

let cli: BuiltCli
let root: string
let home: string

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function meshsig(args: string[], opts: { input?: string | Uint8Array; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [cli.main, ...args], {
    input: opts.input ?? '',
    env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home, ...opts.env },
    encoding: 'utf8',
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function json(run: Run): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>
}

function initJson(): { did: string; publicKey: string; didKey: string } {
  const r = meshsig(['init', '--json'])
  expect(r.code).toBe(0)
  return json(r) as { did: string; publicKey: string; didKey: string }
}

beforeAll(() => {
  cli = buildCli()
})
afterAll(() => cli?.cleanup())

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'meshsig-cli-'))
  home = join(root, 'home')
  return () => rmSync(root, { recursive: true, force: true })
})

describe('meshsig init', () => {
  it('creates the identity with 0600 files in a 0700 folder and prints the DID, never a private key', () => {
    const r = meshsig(['init'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^✓ Identity generated\n {2}DID: did:msig:[1-9A-HJ-NP-Za-km-z]+\n/)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, 'identity.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, 'api-token')).mode & 0o777).toBe(0o600)
    const file = JSON.parse(readFileSync(join(home, 'identity.json'), 'utf8')) as Record<string, string>
    expect(r.stdout).not.toContain(file.privateKey)
    expect(r.stdout).not.toContain(file.nextPrivateKey)
  })

  it('refuses to overwrite without --force (exit 2), replaces with --force', () => {
    const first = initJson()
    const again = meshsig(['init'])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already exists.*--force/)
    const againJson = meshsig(['init', '--json'])
    expect(againJson.code).toBe(2)
    expect(json(againJson)).toMatchObject({ code: 'ALREADY_EXISTS' })
    const forced = meshsig(['init', '--force', '--json'])
    expect(forced.code).toBe(0)
    expect(json(forced).did).not.toBe(first.did)
    const file = JSON.parse(readFileSync(join(home, 'identity.json'), 'utf8')) as Record<string, string>
    expect(forced.stdout).not.toContain(file.privateKey)
  })
})

describe('meshsig identity', () => {
  it('prints did, didKey, peerId, publicKey, createdAt as JSON, under all three names, no private key', () => {
    const made = initJson()
    const file = JSON.parse(readFileSync(join(home, 'identity.json'), 'utf8')) as Record<string, string>
    for (const name of ['identity', 'id', 'whoami']) {
      const r = meshsig([name, '--json'])
      expect(r.code).toBe(0)
      const out = json(r)
      expect(Object.keys(out).sort()).toEqual(['createdAt', 'did', 'didKey', 'peerId', 'publicKey'])
      expect(out.did).toBe(made.did)
      expect(out.peerId).toMatch(/^12D3KooW/)
      expect(r.stdout).not.toContain(file.privateKey)
      expect(r.stdout).not.toContain(file.nextPrivateKey)
    }
    const human = meshsig(['whoami'])
    expect(human.stdout).toContain(made.did)
    expect(human.stdout).not.toContain(file.privateKey)
  })

  it('says NO_IDENTITY and run meshsig init (exit 2) without one', () => {
    const r = meshsig(['identity'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/run meshsig init/)
    const j = meshsig(['sign', 'x', '--json'])
    expect(j.code).toBe(2)
    expect(json(j).code).toBe('NO_IDENTITY')
  })

  it('refuses an identity file others can read (exit 2, INSECURE_KEY_FILE, chmod 600)', () => {
    initJson()
    chmodSync(join(home, 'identity.json'), 0o644)
    const r = meshsig(['sign', 'hello', '--json'])
    expect(r.code).toBe(2)
    expect(json(r)).toMatchObject({ code: 'INSECURE_KEY_FILE' })
    expect(String(json(r).error)).toContain(`chmod 600 ${join(home, 'identity.json')}`)
    expect(meshsig(['identity']).stderr).toMatch(/chmod 600/)
  })
})

describe('meshsig sign / verify', () => {
  it('signs (seed output) and verifies under the DID, did:key and public key', () => {
    const id = initJson()
    const signed = meshsig(['sign', 'Deploy the new model to production'])
    expect(signed.code).toBe(0)
    const match = /^✓ Message signed\n {2}SIGNATURE: (\S+)\n$/.exec(signed.stdout)
    expect(match).not.toBeNull()
    const sig = match?.[1] ?? ''
    for (const signer of [id.did, id.didKey, id.publicKey]) {
      const r = meshsig(['verify', 'Deploy the new model to production', sig, signer])
      expect(r.code, signer).toBe(0)
      expect(r.stdout).toContain('✓ SIGNATURE VALID')
    }
    expect(meshsig(['verify', 'Deploy the new model to production', sig, id.did]).stdout).toMatch(/inception key/)
  })

  it('a tampered message or foreign signature is INVALID, exit 1 (human and JSON)', () => {
    const id = initJson()
    const sig = String(json(meshsig(['sign', 'pay 10', '--json'])).signature)
    const r = meshsig(['verify', 'pay 1000', sig, id.did])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('INVALID')
    const j = meshsig(['verify', 'pay 1000', sig, id.publicKey, '--json'])
    expect(j.code).toBe(1)
    expect(json(j)).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' })
  })

  it('malformed key, DID or signature is bad input: exit 2 with a clear error', () => {
    const id = initJson()
    const sig = String(json(meshsig(['sign', 'm', '--json'])).signature)
    const cases: Array<[string[], string]> = [
      [['verify', 'm', sig, 'not-a-key'], 'INVALID_KEY'],
      [['verify', 'm', sig, 'did:msig:0OIl'], 'INVALID_DID'],
      [['verify', 'm', sig, 'did:web:example.com'], 'INVALID_DID'],
      [['verify', 'm', 'abc', id.did], 'MALFORMED'],
      [['verify', 'm', sig.slice(4), id.did], 'MALFORMED'],
    ]
    for (const [args, code] of cases) {
      const r = meshsig([...args, '--json'])
      expect(r.code, args.join(' ')).toBe(2)
      expect(json(r).code).toBe(code)
      const human = meshsig(args)
      expect(human.code).toBe(2)
      expect(human.stderr).toMatch(/^✗ \S/)
    }
  })

  it('"-" signs and verifies the exact bytes of stdin (trailing newline included)', async () => {
    const id = initJson()
    const input = 'from stdin\nline two\n'
    const sig = String(json(meshsig(['sign', '-', '--json'], { input })).signature)
    expect(await verify(input, sig, id.publicKey)).toBe(true)
    expect(await verify(input.trimEnd(), sig, id.publicKey)).toBe(false)
    expect(meshsig(['verify', '-', sig, id.did], { input }).code).toBe(0)
    expect(meshsig(['verify', input, sig, id.did]).code).toBe(0)
    expect(meshsig(['verify', '-', sig, id.did], { input: input.trimEnd() }).code).toBe(1)
  })

  it('passes numeric-looking and dash-leading messages through unchanged', async () => {
    const id = initJson()
    for (const [args, message] of [
      [['sign', '--json', '1e3'], '1e3'],
      [['sign', '--json', '007'], '007'],
      [['sign', '--json', ''], ''],
      [['sign', '--json', '--', '-5 apples'], '-5 apples'],
    ] as const) {
      const r = meshsig([...args])
      expect(r.code, message).toBe(0)
      expect(await verify(message, String(json(r).signature), id.publicKey), message).toBe(true)
    }
  })
})

describe('RFC 8032 §7.1 vectors through the CLI', () => {
  for (const v of RFC8032_VECTORS) {
    const text = utf8Message(v)
    it(`${v.name}: verify <msg> <sig> <b64 key> exits 0; a flipped bit exits 1`, () => {
      const pk = hexToB64(v.publicKey)
      const sig = hexToB64(v.signature)
      const ok =
        text !== undefined
          ? meshsig(['verify', text, sig, pk])
          : meshsig(['verify', '-', sig, pk], { input: hex(v.message) })
      expect(ok.code).toBe(0)
      expect(ok.stdout).toContain('✓ SIGNATURE VALID')
      const bad = hex(v.signature)
      bad[0] = (bad[0] ?? 0) ^ 1
      const badSig = Buffer.from(bad).toString('base64')
      const no =
        text !== undefined
          ? meshsig(['verify', text, badSig, pk])
          : meshsig(['verify', '-', badSig, pk], { input: hex(v.message) })
      expect(no.code).toBe(1)
    })
  }
})

describe('global options and usage errors', () => {
  it('--home overrides MESHSIG_HOME; --server and MESHSIG_SERVER are accepted', () => {
    const other = join(root, 'other')
    const r = meshsig(['init', '--json', '--home', other, '--server', 'http://127.0.0.1:9'])
    expect(r.code).toBe(0)
    expect(String(json(r).path)).toBe(join(other, 'identity.json'))
    expect(meshsig(['identity']).code).toBe(2)
    expect(meshsig(['identity', '--home', other], { env: { MESHSIG_SERVER: 'http://x:1' } }).code).toBe(0)
  })

  it('unknown command or option, or a missing argument, exits 2', () => {
    expect(meshsig(['frobnicate']).code).toBe(2)
    const unknown = meshsig(['identity', '--bogus', '--json'])
    expect(unknown.code).toBe(2)
    expect(json(unknown).code).toBe('INVALID_INPUT')
    expect(meshsig(['verify', 'only-one-arg']).code).toBe(2)
  })

  it('--help and --version exit 0', () => {
    const help = meshsig(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/init[\s\S]*sign[\s\S]*verify[\s\S]*identity/)
    expect(meshsig(['--version']).stdout).toMatch(/^meshsig\/\d+\.\d+\.\d+/)
  })
})
