import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  didFromPublicKey,
  didKeyFromPublicKey,
  envelopeId,
  keyCommitment,
  keyPairFromSeed,
  peerIdFromPublicKey,
  signingBytes,
  toB64,
  verifyEnvelope,
} from '../../../node/index.js'
import { RFC8032_VECTORS, hex } from '../sdk/rfc8032-vectors.js'

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8')
const TS = 1_764_000_000_000
const [test1, test2, test3] = RFC8032_VECTORS.map((v) => keyPairFromSeed(hex(v.secretKey)))
if (!test1 || !test2 || !test3) throw new Error('RFC 8032 vectors missing')

describe('docs/protocol.md worked example matches the code', () => {
  const alice = didFromPublicKey(test1.publicKey)
  const bob = didFromPublicKey(test2.publicKey)
  const nonce = Uint8Array.from({ length: 16 }, (_, i) => i)
  const msg = createMessage({ from: alice, to: bob, body: 'Analyze the Q1 sales report', ts: TS, nonce }, test1)

  it('shows the four names of the TEST 1 key', () => {
    for (const name of [alice, didKeyFromPublicKey(test1.publicKey), toB64(test1.publicKey)]) {
      expect(doc).toContain(name)
    }
    expect(doc).toContain(peerIdFromPublicKey(test1.publicKey))
  })

  it('shows the msg envelope, its signing bytes, their length and its id', () => {
    expect(doc).toContain('```json\n' + JSON.stringify(msg, null, 2) + '\n```')
    const bytes = signingBytes(msg)
    expect(bytes[0]).toBe(0xff)
    expect(doc).toContain('```text\n' + Buffer.from(bytes.subarray(1)).toString('utf8') + '\n```')
    expect(doc).toContain(`${bytes.length} bytes, of\nwhich the ${bytes.length - 1} after the 0xFF are UTF-8`)
    expect(doc).toContain('```text\n' + envelopeId(msg) + '\n```')
    expect(verifyEnvelope(msg).ok).toBe(true)
  })

  it('shows the inception event, the next-key commitment and the event id', () => {
    const icp = createInception(test1, TS, test3)
    expect(doc).toContain('```json\n' + JSON.stringify(icp, null, 2) + '\n```')
    expect(icp.next).toBe(keyCommitment(test3.publicKey))
    expect(doc).toContain(toB64(test3.publicKey))
    expect(doc).toContain(envelopeId(icp))
  })
})
