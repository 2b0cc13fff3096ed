// Review 106 L1 (decision 0073): an export's message accepted before the canonical-base64 rule may spell its
// nonce with unused bits set; its shape check takes exactly that spelling, and nothing else today's schema refuses.
import { expect, it } from 'vitest'
import { parseStoredEnvelope } from '../../node/audit/stored-envelope.js'
import { createMessage, generateKeyPair, type MsgEnvelope } from '../../node/core/index.js'

const key = generateKeyPair()
const m: MsgEnvelope = createMessage(
  { from: 'did:msig:' + 'z'.repeat(10), to: null, body: 'hi', ts: 1, nonce: new Uint8Array(16).fill(7) },
  key,
)
/** The message with the last character of its nonce (before the padding) replaced by `c`. */
function withNonceChar(c: string): Record<string, unknown> {
  const at = m.nonce.replace(/=+$/, '').length - 1
  return { ...m, nonce: m.nonce.slice(0, at) + c + m.nonce.slice(at + 1) }
}

it('takes a canonical message as it is', () => {
  expect(parseStoredEnvelope(m)).toEqual(m)
})

it('takes a nonce whose unused bits are set, and returns the stored text unchanged', () => {
  const last = m.nonce.replace(/=+$/, '').at(-1)!
  const odd = withNonceChar(String.fromCharCode(last.charCodeAt(0) + 1))
  expect(parseStoredEnvelope(odd)).toEqual(odd)
})

it.each([
  ['another alphabet', withNonceChar('-')],
  ['too short', { ...m, nonce: m.nonce.slice(4) }],
  ['not a string', { ...m, nonce: 7 }],
])('still refuses a nonce with %s', (_, stored) => {
  expect(() => parseStoredEnvelope(stored)).toThrow(/malformed envelope/)
})
