/**
 * A rerun of scripts/install.sh sends an agent credential only to a node that
 * proved it holds it (decision 0049; review of stop 36's fixes). Before, the
 * operator token's proof failed against an impostor on the node's port (the
 * node down), install.sh only warned, and then POSTed /handshake with each
 * agent's stored credential as bearer, unpinned and unproven: the impostor
 * collected the credentials invoke.sh no longer sends it.
 */
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const SCRIPT = fileURLToPath(new URL('../../scripts/install.sh', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'meshsig-install-rerun-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('install.sh rerun against an impostor on the node’s port', { timeout: 60_000 }, () => {
  it('sends no agent credential to a server that did not prove it holds it', async () => {
    const base = join(root, 'agents')
    const home = join(root, 'home')
    const creds = join(home, 'openclaw', 'credentials')
    mkdirSync(creds, { recursive: true, mode: 0o700 })
    writeFileSync(join(home, 'api-token'), 'the-real-operator-token-the-impostor-lacks\n', { mode: 0o600 })
    const agents = ['a', 'b'].map((name, i) => {
      const dir = join(base, name)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'invoke.sh'), '#!/usr/bin/env bash\necho orig\n', { mode: 0o755 })
      const did = `did:msig:${'ABCDEFGHJK'.slice(i, i + 6)}xyz`
      const credentialFile = join(creds, `${did.slice(9)}.credential`)
      writeFileSync(credentialFile, `msag_${String(i).repeat(43)}`, { mode: 0o600 })
      return { name, dir, did, credentialFile }
    })
    writeFileSync(join(home, 'openclaw', 'agents.json'), JSON.stringify({ agents }), { mode: 0o600 })

    // the impostor: no proof; says every agent is active and none is connected
    const seen: string[] = []
    const server = createServer((req, res) => {
      if (req.headers.authorization) seen.push(`${req.method} ${req.url} ${req.headers.authorization}`)
      res.setHeader('content-type', 'application/json')
      if (req.url === '/health') return res.end('{"status":"ok"}')
      if (req.url?.startsWith('/agents/did:')) return res.end('{"status":"active"}')
      if (req.url?.startsWith('/connections')) return res.end('{"connections":[]}')
      res.end('{}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(root, 'user'),
      MESHSIG_HOME: home,
      MESHSIG_SERVER: at,
      OPENCLAW_AGENTS_DIR: base,
    }
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile('bash', [SCRIPT], { env, timeout: 30_000 }, (err, _o, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
      ),
    )
    await new Promise((res) => server.close(res))
    expect(seen.filter((s) => s.includes('msag_'))).toEqual([])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/did not prove it holds the agent credential/)
  })
})
