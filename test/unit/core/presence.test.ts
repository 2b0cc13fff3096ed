/**
 * Presence announcements (docs/protocol.md §10, "The pull"): the worked
 * example of the page is what the code builds, and an announcement verifies
 * only when published by the peer it names, under that peer's key.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  encodePresence,
  keyPairFromSeed,
  peerIdFromPublicKey,
  presenceSigningBytes,
  signPresence,
  utf8,
  verifyPresence,
} from '../../../node/core/index.js'
import { RFC8032_VECTORS, hex } from '../sdk/rfc8032-vectors.js'
import { codeOf } from '../../helpers/error-code.js'

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'protocol.md'), 'utf8')
const [test1, , test3] = RFC8032_VECTORS.map((v) => keyPairFromSeed(hex(v.secretKey)))
if (!test1 || !test3) throw new Error('RFC 8032 vectors missing')
const node = peerIdFromPublicKey(test3.publicKey)
const presence = signPresence(test3, 1_764_000_000_500)

describe('docs/protocol.md §10 presence example matches the code', () => {
  it('shows the announcement, its signing bytes and their length', () => {
    expect(doc).toContain('```json\n' + JSON.stringify(presence, null, 2) + '\n```')
    const bytes = presenceSigningBytes(presence)
    expect(bytes[0]).toBe(0xff)
    expect(doc).toContain('```text\n' + Buffer.from(bytes.subarray(1)).toString('utf8') + '\n```')
    expect(doc).toContain(`0xFF and then ${bytes.length - 1} bytes of UTF-8`)
  })
})

describe('verifyPresence', () => {
  it('accepts the announcement published by the peer it names, signed by its key', () => {
    expect(verifyPresence(encodePresence(presence), node)).toEqual(presence)
  })

  it('refuses another publisher, another key, another time, a bad shape or an oversized frame', () => {
    const other = peerIdFromPublicKey(test1.publicKey)
    expect(codeOf(() => verifyPresence(encodePresence(presence), other))).toBe('KEY_MISMATCH')
    const byOther = { ...signPresence(test1, presence.ts), peerId: node }
    expect(codeOf(() => verifyPresence(encodePresence(byOther), node))).toBe('SIGNATURE_INVALID')
    const moved = { ...presence, ts: presence.ts + 1 }
    expect(codeOf(() => verifyPresence(encodePresence(moved), node))).toBe('SIGNATURE_INVALID')
    const extra = { ...presence, addrs: ['/ip4/10.0.0.1/tcp/1'] }
    expect(codeOf(() => verifyPresence(utf8(JSON.stringify(extra)), node))).toBe('MALFORMED')
    expect(codeOf(() => verifyPresence(utf8('not json'), node))).toBe('MALFORMED')
    expect(codeOf(() => verifyPresence(new Uint8Array(2048).fill(0x20), node))).toBe('MALFORMED')
  })
})
