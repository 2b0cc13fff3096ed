/**
 * Review 92 F6 (design): one `meshsig_init {force: true}` from a model, while
 * the node was stopped, replaced the home's identity (by default the node's
 * own key) and kept no copy: nothing could then sign as, rotate or revoke the
 * old DID, nor act as the controller of the agents the node hosts. The tool
 * takes no `force` any more (decision 0063): an existing identity is always
 * kept, and a person replaces one at the terminal (`meshsig init --force`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { mcpInProcess } from './mcp-in-process.js'

describe('meshsig_init on a home that holds an identity', () => {
  it('keeps it: force is refused as an unknown field, and a plain init is ALREADY_EXISTS; nothing changes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mcp-init-keeps-'))
    onTestFinished(() => rmSync(root, { recursive: true, force: true }))
    const home = join(root, 'home')
    const mcp = await mcpInProcess({ MESHSIG_HOME: home })
    expect(await mcp.inputOf('meshsig_init')).toEqual({})
    const first = await mcp.call('meshsig_init')
    expect(first.isError).toBe(false)
    const files = readdirSync(home).sort()
    const identity = readFileSync(join(home, 'identity.json'), 'utf8')
    const token = readFileSync(join(home, 'api-token'), 'utf8')

    const forced = await mcp.call('meshsig_init', { force: true })
    expect(forced.isError).toBe(true)
    expect(forced.data.code).toBe('INVALID_INPUT')
    expect(forced.data.error).toContain('force')
    const again = await mcp.call('meshsig_init', {})
    await mcp.close()
    expect(again.isError).toBe(true)
    expect(again.data.code).toBe('ALREADY_EXISTS')
    expect(again.data.error).not.toContain('force')

    expect(readFileSync(join(home, 'identity.json'), 'utf8')).toBe(identity)
    expect(readFileSync(join(home, 'api-token'), 'utf8')).toBe(token)
    expect(readdirSync(home).sort()).toEqual(files)
    expect(JSON.parse(identity).did).toBe(first.data.did)
  })
})
