/** fast-check arbitraries of signed envelopes (msg, reg, icp, chk) with the key that must verify them. */
import fc from 'fast-check'
import {
  createCheckpoint,
  createInception,
  createMessage,
  createRegistration,
  didFromPublicKey,
  keyPairFromSeed,
  MAX_TS,
  peerIdFromPublicKey,
  type Envelope,
  type KeyPair,
} from '../../../node/index.js'

/** A signed envelope and the public key its `sig` verifies under. */
export interface SignedCase {
  readonly envelope: Envelope
  readonly signerKey: Uint8Array
}

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 })
const keyPair: fc.Arbitrary<KeyPair> = seed.map((s) => keyPairFromSeed(s))
const did = seed.map((s) => didFromPublicKey(keyPairFromSeed(s).publicKey))
const ts = fc.integer({ min: 0, max: MAX_TS })
const text = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', minLength: min, maxLength: max }).filter((s) => s.length >= min && s.length <= max)
const confidence = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => (x === 0 ? 0 : x))
const capability = fc.record(
  { type: fc.stringMatching(/^[A-Za-z0-9._:/-]{1,64}$/), confidence },
  { requiredKeys: ['type'] },
)

const msgCase = fc
  .record({
    key: keyPair,
    to: fc.option(did, { nil: null }),
    body: text(0, 300),
    ts,
    nonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  })
  .map(({ key, to, body, ts: t, nonce }) => {
    const from = didFromPublicKey(key.publicKey)
    return { envelope: createMessage({ from, to, body, ts: t, nonce }, key), signerKey: key.publicKey }
  })

const regCase = fc
  .record({ key: keyPair, name: text(1, 64), caps: fc.array(capability, { maxLength: 5 }), controller: did, ts })
  .map(({ key, name, caps, controller, ts: t }) => {
    const init = {
      did: didFromPublicKey(key.publicKey),
      name,
      capabilities: caps,
      controller,
      peerId: peerIdFromPublicKey(key.publicKey),
      ts: t,
    }
    return { envelope: createRegistration(init, key), signerKey: key.publicKey }
  })

const icpCase = fc
  .record({ key: keyPair, next: fc.option(keyPair, { nil: null }), ts })
  .map(({ key, next, ts: t }) => ({ envelope: createInception(key, t, next), signerKey: key.publicKey }))

const chkCase = fc
  .record({ key: keyPair, size: fc.nat(), root: fc.uint8Array({ minLength: 32, maxLength: 32 }), ts })
  .map(({ key, size, root, ts: t }) => ({
    envelope: createCheckpoint(didFromPublicKey(key.publicKey), size, root, t, key),
    signerKey: key.publicKey,
  }))

/** Any signed msg, reg, icp or chk envelope with its signer's key. */
export const signedCase: fc.Arbitrary<SignedCase> = fc.oneof(msgCase, regCase, icpCase, chkCase)
