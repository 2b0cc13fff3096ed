/**
 * A plain signer signs no lookalike (docs/protocol.md §3, §4). An agent
 * driven by a language model can be talked into signing any text; the text
 * form of a revocation, `meshsig/v1/rev\n{…JCS…}`, signed with `meshsig
 * sign`, the SDK's `sign` and the MCP tool `meshsig_sign`, must never be a
 * valid revocation of the node's own identity — envelope signing inputs
 * start with the byte 0xFF, which no text has. Inputs another meshsig format
 * would accept (a leading 0xFF, an RFC 9421 signature base, libp2p's Noise
 * input for the node key, which is its peer key) are refused.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalize, toB64, type Unsigned, type RevEnvelope } from '../../node/core/index.js'
import { loadIdentity } from '../../node/identity/index.js'
import { sign } from '../../node/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { buildMcp, connectMcp, type McpSession } from '../mcp/mcp-fixture.js'

/** libp2p Noise's signing input for a static key whose 32 bytes happen to be text (docs/protocol.md §3). */
const NOISE_INPUT = 'noise-libp2p-static-key:' + 'k'.repeat(32)

const SIGNATURE_BASE =
  '"@method": POST\n"@authority": bank.example\n"@signature-params": ("@method" "@authority");created=1'

let cli: BuiltCli
let mcpBuild: BuiltCli
let mcp: McpSession
let home: string
let fx: ApiFixture

function meshsig(args: string[], input: string | Buffer = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli.main, ...args], {
    input,
    env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home },
    encoding: 'utf8',
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(async () => {
  cli = buildCli()
  mcpBuild = buildMcp()
  home = mkdtempSync(join(tmpdir(), 'meshsig-lookalike-'))
  expect(meshsig(['init', '--json']).code).toBe(0)
  fx = await startApi({}, {}, { identity: loadIdentity(home), home })
  mcp = await connectMcp({ main: mcpBuild.main, home })
}, 120_000)

afterAll(async () => {
  await mcp?.close()
  await fx?.stop()
  cli?.cleanup()
  mcpBuild?.cleanup()
  rmSync(home, { recursive: true, force: true })
})

/** The unsigned revocation of the node's own identity and its text form (what the old signing input was). */
function revocationText(): { rev: Unsigned<RevEnvelope>; text: string } {
  const view = fx.node.keyView(fx.node.did)
  const rev: Unsigned<RevEnvelope> = {
    v: 1,
    type: 'rev',
    did: fx.node.did,
    seq: view.keySeq! + 1,
    prev: view.lastId!,
    reason: 'talked into it',
    ts: Date.now(),
  }
  return { rev, text: `meshsig/v1/rev\n${canonicalize(rev)}` }
}

describe('the text form of a revocation, signed by every plain signer, revokes nothing', () => {
  // Not the DID's own signature, and no registration here names a controller whose signature it could be:
  // refused as UNKNOWN_SIGNER (controller unknown, decision 0069), never applied
  it.each(['meshsig sign', 'SDK sign', 'meshsig_sign'])('%s: refused everywhere, revokes nothing', async (how) => {
    const { rev, text } = revocationText()
    let sig: string
    if (how === 'meshsig sign') {
      const r = meshsig(['sign', '--json', text])
      expect(r.code, r.stderr).toBe(0)
      sig = (JSON.parse(r.stdout) as { signature: string }).signature
    } else if (how === 'SDK sign') {
      sig = await sign(text, toB64(loadIdentity(home).keyPair.seed))
    } else {
      const answer = await mcp.call('meshsig_sign', { message: text })
      expect(answer.isError, answer.text).toBe(false)
      sig = answer.data.signature as string
    }
    const envelope = { ...rev, sig }
    const revoke = await fx.call('POST', '/agents/revoke', { did: fx.node.did, envelope })
    expect([revoke.status, revoke.body.code]).toEqual([404, 'UNKNOWN_SIGNER'])
    const check = await fx.call('POST', '/messages/verify', { envelope })
    expect([check.body.valid, check.body.code]).toEqual([false, 'UNKNOWN_SIGNER'])
    const gossip = fx.node.checkEnvelope(envelope) // the acceptance run of gossip and sync
    expect(gossip.ok ? 'accepted' : gossip.error.code).toBe('UNKNOWN_SIGNER')
    expect(fx.node.signerKey(fx.node.did).revoked).toBe(false)
    expect((await fx.call('GET', '/revoked')).body.revoked).toEqual([])
  })
})

describe('inputs another meshsig format would accept are refused with SIGNING_REFUSED', () => {
  const starts0xff = Buffer.concat([Buffer.from([0xff]), Buffer.from('meshsig/v1/rev\n{}')])

  it('SDK sign', async () => {
    const seed = toB64(loadIdentity(home).keyPair.seed)
    await expect(sign(SIGNATURE_BASE, seed)).rejects.toMatchObject({ code: 'SIGNING_REFUSED' })
    await expect(sign(new Uint8Array(starts0xff), seed)).rejects.toMatchObject({ code: 'SIGNING_REFUSED' })
    await expect(sign('a text that merely mentions "@signature-params": inline', seed)).resolves.toMatch(/=$/)
  })

  it('meshsig sign: exit 2 with the reason, nothing on stdout', () => {
    for (const r of [
      meshsig(['sign', SIGNATURE_BASE]),
      meshsig(['sign', '-'], starts0xff),
      meshsig(['sign', '-'], NOISE_INPUT),
    ]) {
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/refusing to sign/)
    }
  })

  it.each([SIGNATURE_BASE, NOISE_INPUT])('meshsig_sign: an error with the code (%#)', async (message) => {
    const answer = await mcp.call('meshsig_sign', { message })
    expect(answer.isError).toBe(true)
    expect(answer.text).toMatch(/SIGNING_REFUSED|refusing to sign/)
  })
})
