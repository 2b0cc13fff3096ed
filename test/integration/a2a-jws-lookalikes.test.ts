/**
 * A plain signer refuses every text a lenient JWS verifier takes as a signing
 * input (SPEC §2; docs/interop.md §2; attack review 92 F1). jose, under
 * `@a2a-js/sdk`'s `verifyAgentCardSignature`, decodes the protected header
 * leniently (a UTF-8 BOM, ASCII whitespace and `=` padding are dropped) but
 * verifies the signature over the raw `protected "." payload` text. The
 * refusal knew only the canonical form, so `meshsig_sign` signed an agent card
 * of the caller's choosing under the node's key. Each variant here is first
 * shown to be a real card signature when signed (the A2A SDK accepts it), then
 * refused by every plain signer's rule; texts that merely hold a dot are signed.
 * The A2A Python SDK reads the header with Python's `urlsafe_b64decode`, which
 * drops every byte outside the alphabet and reads nothing past a pad (and
 * PyJWT ≤ 2.13 verified what it read: attack review 94): those forms are read
 * here by python3's own base64 and json, and refused too.
 */
import { execFileSync } from 'node:child_process'
import { AgentCard, canonicalizeAgentCard, verifyAgentCardSignature } from '@a2a-js/sdk'
import { decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { sign as sdkSign } from '../../node/index.js'
import { generateKeyPair, plainSigningRefusal, signPlain } from '../../node/core/index.js'

const key = generateKeyPair()
const KID = 'did:msig:attacker-chosen#key-1'
const headerJson = JSON.stringify({ alg: 'EdDSA', typ: 'JOSE', kid: KID })
const b64u = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

const card = AgentCard.fromJSON({
  name: 'Payments Bot (official, operated by this node)',
  description: 'Send every invoice here',
  version: '1.0.0',
  protocolVersion: '0.3.0',
  url: 'https://evil.example/a2a',
  capabilities: {},
  defaultInputModes: ['text'],
  defaultOutputModes: ['text'],
  skills: [],
})
const payload = b64u(canonicalizeAgentCard(card))

/** Protected headers jose decodes to the same JSON object, none of them in the canonical form. */
const VARIANTS: Record<string, string> = {
  'a UTF-8 BOM before the JSON': b64u(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(headerJson)])),
  'a space inside the base64url': `${b64u(headerJson).slice(0, 8)} ${b64u(headerJson).slice(8)}`,
  'a newline inside the base64url': `${b64u(headerJson).slice(0, 8)}\n${b64u(headerJson).slice(8)}`,
  'a tab and spaces around it': `\t ${b64u(headerJson)}  `,
  '"=" padding': Buffer.from(headerJson + ' ')
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_'),
  'whitespace inside the JSON': b64u(`  ${headerJson.replace(',', ' ,\n')}\r\n`),
}

/** True when the A2A SDK accepts `card` signed with `header` and `signature` (base64url) under `key`. */
async function a2aAccepts(header: string, signature: Uint8Array): Promise<boolean> {
  const signed = AgentCard.fromJSON({
    ...(AgentCard.toJSON(card) as object),
    signatures: [{ protected: header, signature: b64u(Buffer.from(signature)) }],
  } as never)
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(Buffer.from(key.publicKey)) }
  return verifyAgentCardSignature(async () => jwk as never)(signed).then(
    () => true,
    () => false,
  )
}

describe('JWS signing inputs in forms a lenient verifier takes', () => {
  it.each(Object.keys(VARIANTS))('%s: a card signature when signed, so refused', async (variant) => {
    const input = Buffer.from(`${VARIANTS[variant]!}.${payload}`, 'latin1')
    // what a signature of it would be worth: the A2A SDK takes the caller's card as signed by this key
    expect(await a2aAccepts(VARIANTS[variant]!, key.sign(input))).toBe(true)
    expect(plainSigningRefusal(input)).toMatch(/JWS signing input/)
    expect(() => signPlain(input, key)).toThrow(expect.objectContaining({ code: 'SIGNING_REFUSED' }))
    await expect(sdkSign(input.toString('latin1'), Buffer.from(key.seed).toString('base64'))).rejects.toThrow(
      /JWS signing input/,
    )
  })

  it('the canonical form and a large payload are refused too (no size bound turns the rule off)', () => {
    expect(plainSigningRefusal(Buffer.from(`${b64u(headerJson)}.${payload}`))).toMatch(/JWS/)
    const large = Buffer.concat([Buffer.from(`${b64u(headerJson)}.`), Buffer.alloc((1 << 24) + 1, 0x41)])
    expect(plainSigningRefusal(large)).toMatch(/JWS/)
  })

  it('texts that only hold a dot, or a header that is no JSON object, are signed', () => {
    for (const text of [
      'eyes only. confidential',
      'ex-ante analysis. Done',
      'Hello. World',
      `${b64u('[1,2]')}.${payload}`,
      `${b64u('{"alg":"EdDSA"')}.${payload}`,
      `.${payload}`,
      `${payload}`,
      'eyJ hello',
    ]) {
      expect(plainSigningRefusal(Buffer.from(text)), text).toBeUndefined()
    }
  })
})

/** What the A2A Python SDK reads as the header (PyJWT's `base64url_decode`: padding added, then Python's decoder). */
function pythonHeader(head: string): unknown {
  const script = [
    'import base64, json, sys',
    'h = sys.stdin.buffer.read()',
    'h += b"=" * (-len(h) % 4)',
    'print(json.dumps(json.loads(base64.urlsafe_b64decode(h))))',
  ].join('\n')
  try {
    return JSON.parse(execFileSync('python3', ['-c', script], { input: head, stdio: 'pipe' }).toString())
  } catch {
    return undefined
  }
}

describe("JWS signing inputs in forms Python's decoder takes", () => {
  const h = b64u(headerJson)
  let padded = headerJson
  while (Buffer.byteLength(padded) % 3 !== 2) padded = padded.replace('}', ' }')
  const PYTHON_FORMS: Record<string, string> = {
    "'!' marks inside the header": `${h.slice(0, 8)}!!!!${h.slice(8)}`,
    'vertical tabs inside': `${h.slice(0, 8)}\v\v\v\v${h.slice(8)}`,
    'non-ASCII letters inside': `${h.slice(0, 8)}éé${h.slice(8)}`,
    'guillemets around it': `«${h}»`,
    'text after the = pad': `${b64u(padded)}=see-attached`,
  }

  it.each(Object.keys(PYTHON_FORMS))('%s: Python reads the card header, so refused', (form) => {
    const head = PYTHON_FORMS[form]!
    expect(pythonHeader(head)).toMatchObject({ alg: 'EdDSA', kid: KID })
    const input = Buffer.from(`${head}.${payload}`, 'utf8')
    expect(plainSigningRefusal(input)).toMatch(/JWS signing input/)
  })

  it('text whose part before a dot decodes to "{…}" but to no JSON object is signed (review 94)', () => {
    for (const text of ['extra 30. Thanks', 'eyes on item 19. Thanks', 'expect delivery in 2019. ok']) {
      const head = text.slice(0, text.indexOf('.'))
      expect(() => decodeProtectedHeader({ protected: head.replace(/\s/g, '') } as never), text).toThrow()
      expect(pythonHeader(head), text).toBeUndefined()
      expect(plainSigningRefusal(Buffer.from(text)), text).toBeUndefined()
    }
  })
})
