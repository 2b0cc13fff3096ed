/**
 * `meshsig rotate-key` with a node URL carrying user:password@ (review 107 L3): refused as bad input (exit 2)
 * before any key changes, as every online command refuses it, without repeating it. probeNode
 * (cli/key-input.ts) had turned the refusal into "unreachable": the rotation went ahead and the note "no node
 * answered at http://ops:<password>@…" printed the password.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/mesh.js'

const MAIN = join(__dirname, '../../dist/bin/meshsig.js')
const SECRET = 's3cret-basic-auth-pw'
const home = tempDir('meshsig-rotate-key-userinfo-')
afterAll(() => home.cleanup())

function run(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { ...process.env, MESHSIG_HOME: join(home.dir, 'home'), MESHSIG_SERVER: '' },
    encoding: 'utf8',
  })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('meshsig rotate-key with a node URL carrying a password', () => {
  it('is refused as bad input (exit 2), never prints the password, and changes no key', () => {
    expect(run(['init']).code).toBe(0)
    const identityFile = join(home.dir, 'home', 'identity.json')
    const before = readFileSync(identityFile, 'utf8')
    const server = `http://ops:${SECRET}@127.0.0.1:1`
    const human = run(['rotate-key', '--server', server])
    const json = run(['rotate-key', '--json', '--server', server])
    const after = readFileSync(identityFile, 'utf8')
    expect({ human: human.out.includes(SECRET), json: json.out.includes(SECRET) }).toEqual({
      human: false,
      json: false,
    })
    expect([human.code, json.code]).toEqual([2, 2])
    expect(after).toBe(before)
  })
})
