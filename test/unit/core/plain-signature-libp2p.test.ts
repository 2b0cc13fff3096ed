// A plain signer signs no libp2p lookalike (docs/protocol.md §3, SPEC §2). The node's identity key
// is its libp2p peer key (SPEC §1): a plain signature of libp2p's Noise input let anybody complete a
// Noise handshake as the node's PeerId (found by the SPEC audit of stop 32). The bytes checked here
// are the ones libp2p's own code asks the key to sign (captured from a wrapped libp2p key), so the
// rules cover the real formats, not our idea of them.
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateKeyPair, plainSigningRefusal, signPlain } from '../../../node/core/index.js'
// libp2p's own signing functions, not exported by their packages: the file paths are pinned by the tests' lockfile
import { createHandshakePayload } from '../../../node_modules/@chainsafe/libp2p-noise/dist/src/utils.js'
import { buildRawMessage } from '../../../node_modules/@libp2p/gossipsub/dist/src/utils/buildRawMessage.js'
import { PublishConfigType } from '../../../node_modules/@libp2p/gossipsub/dist/src/types.js'

const identity = generateKeyPair()

/** The node's libp2p key, as node/p2p builds it from the identity seed, recording what it is asked to sign. */
async function recordingKey(): Promise<{ key: PrivateKey; signed: Uint8Array[] }> {
  const real = await generateKeyPairFromSeed('Ed25519', identity.seed)
  const signed: Uint8Array[] = []
  const key = new Proxy(real, {
    get(target, prop) {
      if (prop === 'sign')
        return (bytes: Uint8Array) => {
          signed.push(Uint8Array.from(bytes))
          return target.sign(bytes)
        }
      const value: unknown = Reflect.get(target, prop)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
  return { key, signed }
}

/** What libp2p signs with the peer key, by format. */
async function libp2pSigningInputs(): Promise<Record<string, Uint8Array>> {
  const { key, signed } = await recordingKey()
  const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  await createHandshakePayload(key, new Uint8Array(x25519))
  const peerId = peerIdFromPrivateKey(key)
  await RecordEnvelope.seal(new PeerRecord({ peerId, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4889')] }), key)
  const config = {
    type: PublishConfigType.Signing,
    author: peerId,
    key: publicKeyToProtobuf(key.publicKey),
    privateKey: key,
  }
  await buildRawMessage(config as never, 'meshsig/v1/messages', new Uint8Array([1]), new Uint8Array([1]))
  const [noise, peerRecord, gossipsub] = signed
  return { noise: noise!, peerRecord: peerRecord!, gossipsub: gossipsub! }
}

describe('libp2p signing inputs are refused by the plain signer', () => {
  it.each(['noise', 'peerRecord', 'gossipsub'])('%s', async (format) => {
    const input = (await libp2pSigningInputs())[format]!
    expect(plainSigningRefusal(input)).toMatch(/libp2p signing input/)
    expect(() => signPlain(input, identity)).toThrow(expect.objectContaining({ code: 'SIGNING_REFUSED' }))
  })

  it('the Noise input stays refused when its static key happens to be UTF-8 text (the MCP tool signs text)', () => {
    const text = 'noise-libp2p-static-key:' + 'a'.repeat(32)
    expect(() => signPlain(new TextEncoder().encode(text), identity)).toThrow(/libp2p/)
  })

  it('texts that merely mention libp2p are still signed', () => {
    for (const text of [
      'libp2p is the networking stack of the mesh',
      'Deploy the new model to production',
      'see noise-libp2p-static-key: in the Noise spec',
      // a package name after a quote, a bullet or an emoji (found by the attack review of stop 32)
      '`libp2p-noise` bumped to 17, please approve',
      '• libp2p-gossipsub 14.1 released today',
      '✅ libp2p-kad-dht upgrade done',
      '🚀 libp2p-websockets is live',
      '(libp2p-yamux) needs a look',
      '"libp2p-tcp" works',
      '#libp2p-dev channel',
      '\nlibp2p-kad-dht was upgraded to 15.0',
      '\tlibp2p-kad-dht: fine',
      '',
    ]) {
      expect(plainSigningRefusal(new TextEncoder().encode(text))).toBeUndefined()
    }
  })
})
