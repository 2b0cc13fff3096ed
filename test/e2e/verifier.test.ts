/**
 * The public verifier page (`GET /verify`) in a real browser: paste a
 * message, a signature and a key or DID, press Verify, read the verdict.
 * Signatures are made here with the core's keys, the way an agent would.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, keyPairFromB64, type KeyPair } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const SCREENSHOT = '/tmp/meshsig-verify.png'

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64')
}

function signText(key: KeyPair, text: string): string {
  return b64(key.sign(new TextEncoder().encode(text)))
}

async function verifyInPage(page: Page, message: string, signature: string, signer: string): Promise<string> {
  await page.getByLabel('Message', { exact: true }).fill(message)
  await page.getByLabel('Signature', { exact: true }).fill(signature)
  await page.getByLabel('Public key or DID').fill(signer)
  await page.getByRole('button', { name: 'Verify', exact: true }).click()
  const outcome = page.locator('[data-testid="verify-result"], [data-testid="verify-error"]')
  await outcome.waitFor()
  return outcome.innerText()
}

describe('public verifier (GET /verify)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page
  let mesh: { id: string; envelope: Record<string, unknown> } | undefined

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'e2e-verifier-node' })
    browser = await openBrowser()
    page = browser.page
    await page.goto(fx.url + '/verify')
    await page.getByRole('heading', { name: 'Verify a signature' }).waitFor()
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
  })

  it('shows VALID for a signature by a raw public key', async () => {
    const key = generateKeyPair()
    const message = 'Deploy the new model to production\nline two, exactly'
    const text = await verifyInPage(page, message, signText(key, message), b64(key.publicKey))
    expect(text).toContain('✓ VALID')
    expect(text).toContain(b64(key.publicKey))
    expect(text).toMatch(/Key source\s+the public key given/)
    expect(text).toMatch(/Verified at\s+\d{4}-\d{2}-\d{2}T/)
  })

  it('shows VALID with the signer DID for a registered agent', async () => {
    const r = await fx.call('POST', '/agents/register', { name: 'signer' })
    const did = r.body.identity.did as string
    const key = keyPairFromB64(r.body.identity.privateKey as string)
    const text = await verifyInPage(page, 'hello', signText(key, 'hello'), did)
    expect(text).toContain('✓ VALID')
    expect(text).toContain(did)
    expect(text).toContain('key event log')
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  it('shows INVALID for a tampered message', async () => {
    const key = generateKeyPair()
    const text = await verifyInPage(page, 'pay 100', signText(key, 'pay 10'), b64(key.publicKey))
    expect(text).toContain('✗ INVALID')
    expect(text).toContain('SIGNATURE_INVALID')
    expect(text).not.toContain('✓ VALID')
    await page.screenshot({ path: '/tmp/meshsig-verify-invalid.png', fullPage: true })
  })

  it('explains malformed input with the API error code', async () => {
    const key = generateKeyPair()
    const text = await verifyInPage(page, 'hello', signText(key, 'hello'), 'not-a-key')
    expect(text).toContain('Cannot verify this input')
    expect(text).toContain('INVALID_KEY')
    expect(await page.getByTestId('verify-error').getAttribute('role')).toBe('alert')
    const bad = await verifyInPage(page, 'hello', 'c2hvcnQ=', b64(key.publicKey))
    expect(bad).toContain('MALFORMED')
    await page.screenshot({ path: '/tmp/meshsig-verify-error.png', fullPage: true })
  })

  it('asks for missing fields before calling the node', async () => {
    await page.getByRole('button', { name: 'Clear' }).click()
    await page.getByRole('button', { name: 'Verify', exact: true }).click()
    expect(await page.getByTestId('verify-error').innerText()).toContain('Enter the signature')
  })

  it('says INVALID for a mesh message checked as plain text, and explains envelope signatures', async () => {
    const a = await fx.call('POST', '/agents/register', { name: 'mesh-a' })
    const b = await fx.call('POST', '/agents/register', { name: 'mesh-b' })
    const sent = await fx.call('POST', '/messages/send', {
      fromDid: a.body.identity.did,
      toDid: b.body.identity.did,
      message: 'ship it',
    })
    mesh = { id: sent.body.id as string, envelope: sent.body.envelope as Record<string, unknown> }
    const text = await verifyInPage(page, 'ship it', sent.body.signature as string, a.body.identity.did as string)
    expect(text).toContain('✗ INVALID')
    expect(await page.getByTestId('envelope-hint').innerText()).toMatch(/envelope signature/)
  })

  it('verifies a pasted envelope (VALID) and a tampered one (INVALID)', async () => {
    await page.getByTestId('tab-envelope').click()
    const check = async (input: string): Promise<string> => {
      await page.getByLabel('Envelope or message id').fill(input)
      await page.getByRole('button', { name: 'Verify envelope' }).click()
      const out = page.locator('[data-testid="envelope-result"], [data-testid="verify-error"]')
      await out.waitFor()
      return out.innerText()
    }
    const valid = await check(JSON.stringify(mesh!.envelope))
    expect(valid).toContain('✓ VALID')
    expect(valid).toContain(mesh!.id)
    await page.getByTestId('audit-proof').filter({ hasText: '✓ In the audit log' }).waitFor()
    expect(new URL(page.url()).searchParams.get('envelope')).toBe(JSON.stringify(mesh!.envelope))
    const invalid = await check(JSON.stringify({ ...mesh!.envelope, body: 'ship it now' }))
    expect(invalid).toContain('✗ INVALID')
    expect(invalid).toContain('SIGNATURE_INVALID')
  })

  it('verifies a message id from a permalink, names the node that answered, and shows the audit proof', async () => {
    await page.goto(`${fx.url}/verify?id=${mesh!.id}`)
    const result = page.getByTestId('envelope-result')
    await result.waitFor()
    expect(await result.innerText()).toContain('✓ VALID')
    const proof = page.getByTestId('audit-proof')
    await proof.waitFor()
    expect(await proof.innerText()).toMatch(/✓ In the audit log: entry \d+ \(envelope.accepted\)/)
    expect(await page.getByTestId('answered-by').innerText()).toContain('e2e-verifier-node')
    await page.screenshot({ path: '/tmp/meshsig-verify-envelope.png', fullPage: true })
    await page.goto(`${fx.url}/verify?id=${'0'.repeat(64)}`)
    expect(await page.getByTestId('verify-error').innerText()).toContain('stores no message with this id')
  })

  it('says INVALID for a stored message id once its sender is revoked, and why', async () => {
    const a = await fx.call('POST', '/agents/register', { name: 'soon-revoked' })
    const b = await fx.call('POST', '/agents/register', { name: 'reader' })
    const from = a.body.identity.did as string
    const sent = await fx.call('POST', '/messages/send', { fromDid: from, toDid: b.body.identity.did, message: 'hi' })
    await page.goto(`${fx.url}/verify?id=${sent.body.id as string}`)
    expect(await page.getByTestId('envelope-result').innerText()).toContain('✓ VALID')
    expect((await fx.call('POST', '/agents/revoke', { did: from, reason: 'key leaked' })).status).toBe(200)
    await page.reload()
    const result = page.getByTestId('envelope-result')
    await result.waitFor()
    const text = await result.innerText()
    expect(text).toContain('✗ INVALID')
    expect(text).toContain('REVOKED')
    expect(text).not.toContain('✓ VALID')
  })

  it('keeps a stored message VALID after its sender rotates and its recipient is revoked, and says both', async () => {
    const a = await fx.call('POST', '/agents/register', { name: 'rotates' })
    const b = await fx.call('POST', '/agents/register', { name: 'leaves' })
    const [from, to] = [a.body.identity.did as string, b.body.identity.did as string]
    const sent = await fx.call('POST', '/messages/send', { fromDid: from, toDid: to, message: 'before' })
    expect((await fx.call('POST', '/agents/rotate-key', { did: from })).status).toBe(200)
    expect((await fx.call('POST', '/agents/revoke', { did: to, reason: 'retired' })).status).toBe(200)
    await page.goto(`${fx.url}/verify?id=${sent.body.id as string}`)
    const result = page.getByTestId('envelope-result')
    await result.waitFor()
    expect(await result.innerText()).toContain('✓ VALID')
    expect(await page.getByTestId('rotated-since').innerText()).toMatch(/rotated to a new key since/)
    expect(await page.getByTestId('revoked-since').innerText()).toContain(to)
    // the audit entry is shown with its proof, or said to wait for the next signed checkpoint
    const proof = page.locator('[data-testid="audit-proof"], [data-testid="audit-proof-missing"]')
    await proof.waitFor()
    expect(await proof.innerText()).toMatch(/✓ In the audit log|next one will cover it/)
  })

  it('raised no console errors or CSP violations', () => {
    expect(browser.errors.filter((e) => !/status of (400|404)/.test(e))).toEqual([])
  })
})
