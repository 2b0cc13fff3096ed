/**
 * Envelope cost against raw Ed25519: node:crypto sign/verify with cached
 * KeyObjects versus building and signing a `msg` envelope (`createMessage`)
 * and accepting one (`acceptEnvelope` with freshness on, and
 * `verifyEnvelopeSignature` alone), all in the same process and run.
 */
import { generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import {
  DEFAULT_MAX_SKEW_MS,
  acceptEnvelope,
  createMessage,
  didFromPublicKey,
  generateKeyPair,
  publicKeyFromDid,
  signingBytes,
  verifyEnvelopeSignature,
  type AcceptanceContext,
} from '../../node/index.js'
import { measureAll, throughputTable, type BenchCase, type BenchModule, type Throughput } from './bench-kit.js'

const BODY = 'Analyze the Q1 sales report and summarise the three largest regional deviations.'

function fixture(): { ctx: AcceptanceContext; make: () => ReturnType<typeof createMessage> } {
  const alice = generateKeyPair()
  const bob = generateKeyPair()
  const from = didFromPublicKey(alice.publicKey)
  const to = didFromPublicKey(bob.publicKey)
  const ctx: AcceptanceContext = {
    now: Date.now(),
    maxSkewMs: DEFAULT_MAX_SKEW_MS,
    keyState: () => undefined,
    controllerOf: () => undefined,
    nonceSeen: () => false,
    hasEnvelope: () => false,
    eventIdAt: () => undefined,
  }
  const make = (): ReturnType<typeof createMessage> =>
    createMessage({ from, to, body: BODY, ts: ctx.now, nonce: randomBytes(16) }, alice)
  return { ctx, make }
}

function cases(): BenchCase[] {
  const { ctx, make } = fixture()
  const envelope = make()
  const wire = JSON.parse(JSON.stringify(envelope)) as unknown
  const key = publicKeyFromDid(envelope.from)
  const data = signingBytes(envelope)
  if (!acceptEnvelope(wire, ctx, { fresh: true }).ok) throw new Error('bench envelope is not accepted')
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const sig = nodeSign(null, data, privateKey)
  return [
    { label: 'raw Ed25519 sign (node:crypto, cached KeyObject)', fn: () => nodeSign(null, data, privateKey) },
    { label: 'raw Ed25519 verify (node:crypto, cached KeyObject)', fn: () => nodeVerify(null, data, publicKey, sig) },
    { label: 'envelope sign (createMessage: build, JCS, sign, check shape)', fn: make },
    {
      label: 'envelope verify (acceptEnvelope: shape, id, key, signature, freshness)',
      fn: () => {
        if (!acceptEnvelope(wire, ctx, { fresh: true }).ok) throw new Error('rejected')
      },
    },
    { label: 'envelope signature only (verifyEnvelopeSignature)', fn: () => verifyEnvelopeSignature(envelope, key) },
  ]
}

function ratio(a: Throughput | undefined, b: Throughput | undefined): string {
  return a && b ? `${((a.opsPerSec / b.opsPerSec) * 100).toFixed(1)} %` : 'n/a'
}

/** The envelope benchmark module. */
export const envelopeBench: BenchModule = {
  name: 'envelope',
  async run() {
    const { make } = fixture()
    const bytes = signingBytes(make()).length
    const rows = measureAll(cases())
    const [rawSign, rawVerify, envSign, envVerify, envSigOnly] = rows
    return [
      '## Envelopes vs raw Ed25519',
      '',
      `One \`msg\` envelope (${bytes} signing bytes, ${BODY.length}-character body) against raw Ed25519 over`,
      'the same bytes, in one process. Each operation ran 2 s in total after a 0.5 s warm-up, in four',
      'interleaved 0.5 s slices so that background load affects all of them alike.',
      '',
      throughputTable(rows),
      '',
      `- envelope verify / raw verify: **${ratio(envVerify, rawVerify)}** (target ≥ 80 %)`,
      `- signature-only envelope verify / raw verify: ${ratio(envSigOnly, rawVerify)}`,
      `- envelope sign / raw sign: ${ratio(envSign, rawSign)}`,
    ].join('\n')
  },
}
