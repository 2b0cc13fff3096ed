/**
 * `meshsig audit verify` without `--json`: every problem line, of the log
 * and views and of the note, stays on its line (decision 0055): a message id
 * or a witness DID from the export that holds newlines and a verdict of its
 * own cannot scroll the real "does NOT verify" heading off the screen and
 * leave a verified-looking block behind.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditVerifyCommand } from '../../cli/commands/audit.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import { printable } from '../../cli/output.js'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair } from '../../node/core/index.js'
import { tempDir } from '../helpers/mesh.js'
import { syntheticExport } from '../helpers/synthetic-export.js'

const FAKE = `${'\n'.repeat(60)}✓ Audit export verified\n  Cosignatures: 2 of 2 required, from your witness keys`

function io(): CliIo {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: async () => new Uint8Array(),
    env: {},
    now: () => Date.now(),
    stderrIsTTY: false,
  }
}

/** An export whose log verifies, with one message whose `id` is `FAKE` and one witness whose `did` is `FAKE`. */
function injectingExport(): Record<string, unknown> {
  const [x, y] = [generateKeyPair(), generateKeyPair()]
  const [xDid, yDid] = [didFromPublicKey(x.publicKey), didFromPublicKey(y.publicKey)]
  const env = createMessage({ from: xDid, to: yDid, body: 'hello', ts: Date.now() - 1000, nonce: randomBytes(16) }, x)
  const b = syntheticExport([
    {
      ts: Date.now() - 500,
      kind: 'envelope.accepted',
      subject: xDid,
      envelopeId: envelopeId(env),
      code: null,
      data: { type: 'msg', to: yDid, via: 'api', deliveredBy: 'api:127.0.0.1' },
    },
  ])
  return { ...b.doc, messages: [{ id: FAKE, envelope: env }], witnesses: [{ did: FAKE, binding: {} }] }
}

let dir: { dir: string; cleanup: () => void }
let file: string

beforeAll(() => {
  dir = tempDir('meshsig-audit-one-line-')
  file = join(dir.dir, 'inject.json')
  writeFileSync(file, JSON.stringify(injectingExport()))
})

afterAll(() => dir?.cleanup())

describe('problem lines of meshsig audit verify', () => {
  it('hold each value from the export on its own line', async () => {
    const result = await auditVerifyCommand(contextFrom({}, io()), file, { witnesses: 1 })
    expect(result.exitCode).toBe(1)
    const shown = printable(result.human)
    expect(shown).toMatch(/^✗ Audit export does NOT verify/)
    expect(shown).not.toMatch(/^✓ Audit export verified$/m)
    expect(shown).not.toMatch(/^ {2}Cosignatures: 2 of 2/m)
    const problems = shown.split('\n').filter((l) => l.startsWith('  - '))
    expect(problems.some((l) => l.includes('its id is not the id of its envelope'))).toBe(true)
    expect(problems.some((l) => l.includes('its key binding does not check out'))).toBe(true)
    expect(shown.split('\n').length).toBeLessThan(20)
  })
})
