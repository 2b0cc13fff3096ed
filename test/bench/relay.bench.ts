/**
 * What a flooded message costs the gossip side before ingest (issue 9):
 * decoding the envelope, looking its sender up in the store and the relay
 * quotas (node/services/relay-guard.ts), for a sender that never registered
 * and for a registered sender past its budget, against a raw node:crypto
 * Ed25519 verify of the same bytes measured in the same run. A message the
 * quotas hold back is never verified, stored or audited, so these are the
 * whole cost of one.
 */
import { generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { createMessage, decodeEnvelope, encodeEnvelope, generateKeyPair, signingBytes } from '../../node/core/index.js'
import { createInception } from '../../node/core/index.js'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { RelayGuard } from '../../node/services/relay-guard.js'
import { openStore } from '../../node/store/index.js'
import { measureAll, throughputTable, type BenchModule, type Throughput } from './bench-kit.js'

const BODY = 'x'.repeat(1024)

function wireMessage(): Uint8Array {
  const key = generateKeyPair()
  const did = createInception(key, 0).did
  return encodeEnvelope(createMessage({ from: did, to: null, body: BODY, ts: Date.now(), nonce: randomBytes(16) }, key))
}

/** Time of `a` as a share of the time of `b`. */
function share(a: Throughput | undefined, b: Throughput | undefined): string {
  return a && b ? `${((a.meanUs / b.meanUs) * 100).toFixed(1)} %` : 'n/a'
}

/** The relay quota benchmark module. */
export const relayBench: BenchModule = {
  name: 'relay',
  async run() {
    const store = openStore({ path: ':memory:' })
    const guard = new RelayGuard({ ...DEFAULT_LIMITS.relay, perDidMessages: 0 }, Date.now)
    const data = wireMessage()
    const raw = generateKeyPairSync('ed25519')
    const signed = signingBytes(decodeEnvelope(data))
    const sig = nodeSign(null, signed, raw.privateKey)
    const judge = (registered: boolean) => () => {
      const e = decodeEnvelope(data)
      if (e.type !== 'msg') throw new Error('not a msg')
      const known = registered || store.agents.get(e.from) !== undefined
      if (guard.admit('12D3KooWOrigin', e.from, data, known, 'via') === undefined) throw new Error('admitted')
    }
    const rows = measureAll([
      {
        label: 'raw Ed25519 verify (node:crypto, cached KeyObject)',
        fn: () => nodeVerify(null, signed, raw.publicKey, sig),
      },
      { label: 'flooded msg from an unregistered DID: decode, store lookup, Ignore', fn: judge(false) },
      { label: 'flooded msg from a registered DID past its budget: decode, Ignore', fn: judge(true) },
    ])
    store.close()
    const [verify, unregistered, overBudget] = rows
    return [
      '## Relay quotas under a flood',
      '',
      `The gossip side's cost of one valid \`msg\` (${data.length} bytes on the wire) that the relay quotas hold back,`,
      'against one raw Ed25519 verify in the same run. Such a message is not verified, stored, audited or relayed.',
      '',
      throughputTable(rows),
      '',
      `- unregistered sender held back: **${share(unregistered, verify)}** of the time of one raw verify`,
      `- registered sender past its budget: ${share(overBudget, verify)} of the time of one raw verify`,
    ].join('\n')
  },
}
