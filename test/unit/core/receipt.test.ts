/**
 * Delivery receipts (docs/protocol.md §10): the worked example of the page
 * is what the code builds, and a receipt verifies only for the message,
 * recipient and node the sender's node expects, under that node's key.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createMessage,
  didFromPublicKey,
  envelopeId,
  keyPairFromSeed,
  peerIdFromPublicKey,
  receiptId,
  receiptSigningBytes,
  signReceipt,
  verifyReceipt,
} from '../../../node/core/index.js'
import { RFC8032_VECTORS, hex } from '../sdk/rfc8032-vectors.js'
import { codeOf } from '../../helpers/error-code.js'

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8')
const [test1, test2, test3] = RFC8032_VECTORS.map((v) => keyPairFromSeed(hex(v.secretKey)))
if (!test1 || !test2 || !test3) throw new Error('RFC 8032 vectors missing')
const alice = didFromPublicKey(test1.publicKey)
const bob = didFromPublicKey(test2.publicKey)
const node = didFromPublicKey(test3.publicKey)
const nonce = Uint8Array.from({ length: 16 }, (_, i) => i)
const msg = createMessage(
  { from: alice, to: bob, body: 'Analyze the Q1 sales report', ts: 1_764_000_000_000, nonce },
  test1,
)
const receipt = signReceipt({ msg: envelopeId(msg), to: bob, node, ts: 1_764_000_000_250 }, test3)
const expected = { msg: envelopeId(msg), to: bob, node, nodeKey: test3.publicKey }

describe('docs/protocol.md §10 receipt example matches the code', () => {
  it('shows the receipt, its signing bytes, their length, its id and the node PeerId', () => {
    expect(doc).toContain('```json\n' + JSON.stringify(receipt, null, 2) + '\n```')
    const bytes = receiptSigningBytes(receipt)
    expect(bytes[0]).toBe(0xff)
    expect(doc).toContain('```text\n' + Buffer.from(bytes.subarray(1)).toString('utf8') + '\n```')
    expect(doc).toContain(`0xFF and then ${bytes.length - 1} bytes of UTF-8`)
    expect(doc).toContain('```text\n' + receiptId(receipt) + '\n```')
    expect(doc).toContain(peerIdFromPublicKey(test3.publicKey))
  })
})

describe('verifyReceipt', () => {
  it('accepts the receipt of the expected message, recipient and node under its key', () => {
    expect(verifyReceipt(JSON.parse(JSON.stringify(receipt)), expected)).toEqual(receipt)
  })

  it('refuses a receipt signed by another key (SIGNATURE_INVALID)', () => {
    const forged = signReceipt({ msg: envelopeId(msg), to: bob, node, ts: 1 }, test2)
    expect(codeOf(() => verifyReceipt(forged, expected))).toBe('SIGNATURE_INVALID')
    expect(codeOf(() => verifyReceipt({ ...receipt, ts: receipt.ts + 1 }, expected))).toBe('SIGNATURE_INVALID')
  })

  it('refuses a receipt for another message, recipient or node (KEY_MISMATCH)', () => {
    expect(codeOf(() => verifyReceipt(receipt, { ...expected, msg: '0'.repeat(64) }))).toBe('KEY_MISMATCH')
    expect(codeOf(() => verifyReceipt(receipt, { ...expected, to: alice }))).toBe('KEY_MISMATCH')
    // a node that signs for itself is still not the recipient's host
    const other = signReceipt({ msg: envelopeId(msg), to: bob, node: alice, ts: 1 }, test1)
    expect(codeOf(() => verifyReceipt(other, expected))).toBe('KEY_MISMATCH')
  })

  it('refuses malformed input (MALFORMED)', () => {
    for (const bad of [null, 'rcp', { ...receipt, extra: 1 }, { ...receipt, type: 'msg' }, { ...receipt, sig: 'x' }]) {
      expect(codeOf(() => verifyReceipt(bad, expected))).toBe('MALFORMED')
    }
  })
})
