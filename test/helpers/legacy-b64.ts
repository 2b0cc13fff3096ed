/**
 * Envelopes as a node took them before decision 0073 (test-only): base64
 * fields then checked against the alphabet and padding only, so a second
 * spelling (an unused bit of the last character set) was stored.
 */
import { expect } from 'vitest'
import { B64_RE } from '../../node/core/encoding.js'
import { createRegistration, signEnvelope, type IcpEnvelope, type KeyPair } from '../../node/core/index.js'
import type { KitNode } from './service-kit.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** The pattern before decision 0073: the alphabet and padding only. */
const OLD_B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** `text` with an unused bit of its last character set: the second spelling of its bytes. */
export function respelt(text: string): string {
  const at = text.replace(/=+$/, '').length - 1
  return text.slice(0, at) + ALPHABET[ALPHABET.indexOf(text[at]!) | 1] + text.slice(at + 1)
}

/** Run `f` as a node before decision 0073 did: base64 fields checked against the alphabet only. */
export function beforeTheRule<T>(f: () => T): T {
  const real = B64_RE.test.bind(B64_RE)
  ;(B64_RE as { test: (s: string) => boolean }).test = (s: string) => OLD_B64_RE.test(s)
  try {
    return f()
  } finally {
    ;(B64_RE as { test: (s: string) => boolean }).test = real
  }
}

/** `beforeTheRule` for the whole of an async `f` (a request the node in this process answers). */
export async function beforeTheRuleAsync<T>(f: () => Promise<T>): Promise<T> {
  const real = B64_RE.test.bind(B64_RE)
  ;(B64_RE as { test: (s: string) => boolean }).test = (s: string) => OLD_B64_RE.test(s)
  try {
    return await f()
  } finally {
    ;(B64_RE as { test: (s: string) => boolean }).test = real
  }
}

/**
 * An agent planted on `kit` as a node before decision 0073 took it: its
 * inception `icp` (signed by `key`) with `next` respelt, and its canonical
 * registration named `name` (a key log is served only with one). Returns the
 * respelt inception.
 */
export function plantLegacyAgent(
  kit: Pick<KitNode, 'ingest' | 'peerId'>,
  icp: IcpEnvelope,
  key: KeyPair,
  name: string,
): IcpEnvelope {
  const { sig: _s, ...unsigned } = icp
  const odd = beforeTheRule(() => signEnvelope<IcpEnvelope>({ ...unsigned, next: respelt(unsigned.next!) }, key))
  beforeTheRule(() => expect(kit.ingest.ingest(odd, { kind: 'gossip', peer: 'x' }, { fresh: false }).ok).toBe(true))
  const did = unsigned.did
  const reg = createRegistration(
    { did, name, capabilities: [{ type: 'test' }], controller: did, peerId: kit.peerId, ts: unsigned.ts },
    key,
  )
  expect(kit.ingest.ingest(reg, { kind: 'gossip', peer: 'x' }, { fresh: false })).toMatchObject({ ok: true })
  return odd
}
