import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from './api-fixture.js'

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')

function pythonReady(): boolean {
  const r = spawnSync('python3', ['-c', 'import requests, cryptography'], { stdio: 'ignore' })
  return r.status === 0
}

describe('docs/api.md', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  it('documents every endpoint with a curl example', () => {
    const endpoints = [
      'GET /health',
      'GET /stats',
      'GET /snapshot',
      'GET /agents',
      'GET /agents/:did',
      'GET /revoked',
      'GET /connections',
      'GET /messages',
      'GET /peers',
      'GET /audit/export',
      'GET /metrics',
      'POST /verify',
      'POST /agents/register',
      'POST /agents/rotate-key',
      'POST /agents/revoke',
      'POST /discover',
      'POST /discover/network',
      'POST /messages/send',
      'POST /messages/verify',
      'POST /handshake',
      'POST /peers/connect',
    ]
    for (const e of endpoints) {
      const start = doc.indexOf(`## ${e}\n`)
      expect(start, e).toBeGreaterThan(-1)
      const section = doc.slice(start, doc.indexOf('\n## ', start + 4))
      expect(section, e).toContain('curl')
    }
  })

  it.skipIf(!pythonReady())("the seed's Python example runs as written and prints True", async () => {
    const block = /<!-- python-example -->\s*```python\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(block).toBeDefined()
    const script = block!.replaceAll('http://localhost:4888', fx.url)
    // async: the node answering the script lives in this process
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { encoding: 'utf8', timeout: 30_000 })
    expect(stdout.trim()).toBe('True')
  })
})
