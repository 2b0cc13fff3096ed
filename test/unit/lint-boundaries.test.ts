// The import boundaries of docs/architecture.md stay true because `npm run lint` enforces them:
// planted imports, linted in place through ESLint's Node API, break exactly the rule they should.
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'

let eslint: ESLint

beforeAll(() => {
  eslint = new ESLint({ cwd: REPO_ROOT })
})

/** The boundary messages ESLint reports for `code` as if it were the file at `filePath`. */
async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message)
}

describe('import boundaries (eslint.config.js)', () => {
  it.each([
    ['node/services/planted.ts', "import Database from 'better-sqlite3'", 'only node/store/ imports better-sqlite3'],
    ['node/services/planted.ts', "await import('better-sqlite3')", 'only node/store/ imports better-sqlite3'],
    ['api/planted.ts', "import { gossipsub } from '@libp2p/gossipsub'", 'only node/p2p/ imports libp2p'],
    ['node/services/planted.ts', "import { createLibp2p } from 'libp2p'", 'only node/p2p/ imports libp2p'],
    ['node/store/planted.ts', "await import('@chainsafe/libp2p-noise')", 'only node/p2p/ imports libp2p'],
    ['node/planted.ts', "import express from 'express'", 'only api/ imports express'],
    ['cli/planted.ts', "import { rateLimit } from 'express-rate-limit'", 'only api/ imports express'],
    ['node/core/planted.ts', "import { readFileSync } from 'node:fs'", 'node/core/ does no I/O'],
    ['node/core/planted.ts', "import { createServer } from 'http'", 'node/core/ does no I/O'],
    [
      'node/core/planted.ts',
      "import { openStore } from '../store/index.js'",
      'node/core/ imports nothing of the project',
    ],
    ['cli/commands/planted.ts', "import type { Store } from '../../node/store/index.js'", 'never node/store'],
    ['api/mcp/tools/planted.ts', "export { trustOf } from '../../../node/services/trust.js'", 'never node/store'],
    ['cli/planted.ts', "await import('../node/p2p/index.js')", 'never node/store'],
    ['ui/src/planted.ts', "import { MeshsigClient } from '../../api/client.js'", 'ui/ uses only the REST API'],
    ['ui/src/planted.ts', "import type { NodeInfo } from '../../node/core/views.js'", 'ui/ uses only the REST API'],
  ])('%s: %s is refused', async (filePath, code, message) => {
    const found = await violations(filePath, code + '\n')
    expect(found).toHaveLength(1)
    expect(found[0]).toContain(message)
  })

  it.each([
    ['node/store/planted.ts', "import Database from 'better-sqlite3'"],
    ['node/p2p/planted.ts', "import { createLibp2p } from 'libp2p'\nimport { noise } from '@chainsafe/libp2p-noise'"],
    ['api/planted.ts', "import express from 'express'\nimport type { MeshNode } from '../node/mesh-node.js'"],
    ['node/core/planted.ts', "import { createHash } from 'node:crypto'\nimport * as z from 'zod'\nimport './keys.js'"],
    ['node/services/planted.ts', "import type { MeshP2P } from '../p2p/index.js'\nimport '../store/index.js'"],
    ['cli/commands/planted.ts', "import { loadIdentity } from '../../node/identity/index.js'"],
    ['ui/src/planted.ts', "import type { ApiHealth } from '../../api/types.js'"],
  ])('%s: %s is allowed', async (filePath, code) => {
    expect(await violations(filePath, code + '\n')).toEqual([])
  })
})
