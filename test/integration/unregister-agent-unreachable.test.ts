/**
 * `bash scripts/unregister-agent.sh <agent-name>` (the seed's "When an agent
 * is removed" example, docs/proxy.md) when no node answers: the script ends
 * with the documented "no answer now" (exit 3), by name as by DID. The name
 * is looked up inside a command substitution, which does not inherit
 * `set -e`: the script used to go on and say "no active local agent is
 * called '<name>'" and exit 1, a negative answer it never had (review 105 L6).
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(REPO_ROOT, 'scripts', 'unregister-agent.sh'), ...args], { env }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stderr }),
    )
  })
}

describe('unregister-agent.sh with no node answering', () => {
  it('exits 3 (no answer now), by DID and by name, and never claims the agent does not exist', async () => {
    const home = tempDir('meshsig-unregister-unreachable-')
    try {
      const port = await freePort() // closed again: nothing listens
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home.dir, MESHSIG_HOME: home.dir }
      const server = `http://127.0.0.1:${port}`
      const byDid = await run(['--server', server, 'did:msig:FsXdkG2RGPjaGySh9Mgm4k2D5ErKif6Bw6R3T4cuasGN'], env)
      expect(byDid.code, byDid.stderr).toBe(3)
      const byName = await run(['--server', server, 'agent-name-here'], env)
      const report = `exit ${byName.code}\n${byName.stderr}`
      expect(byName.stderr, report).not.toContain('no active local agent')
      expect(byName.code, report).toBe(3)
    } finally {
      home.cleanup()
    }
  })
})
