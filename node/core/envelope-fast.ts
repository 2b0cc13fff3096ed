/**
 * The checks of `msgSchema`, `icpSchema` and `regSchema` (envelope-schema.ts)
 * written out by hand: messages are the envelopes a node takes most often
 * (every send, every delivery), inceptions and registrations come with every
 * new agent, and the schema's parse cost more than the rest of taking one
 * apart from the signature. Each answers only "conforms" (with the typed
 * copy) or "ask the schema": `parseEnvelope` then runs the schema, so every
 * error is the schema's own. Property tests hold them to the schema's verdicts.
 */
import type { Envelope, IcpEnvelope, MsgEnvelope, RegEnvelope } from './envelope-schema.js'
import { B64_RE } from './b64-pattern.js'
import { CAPABILITY_TYPE_RE, MAX_BODY_LENGTH, MAX_TS, MSIG_DID_RE } from './envelope-schema.js'
import { sealedBytes } from './sealed.js'

const MSG_KEYS = ['v', 'type', 'from', 'to', 'body', 'ts', 'nonce', 'sig'] as const

function isDid(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 128 && MSIG_DID_RE.test(value)
}

/** Canonical base64 of `length` characters: the schema's pattern, so a set unused bit of the last one is refused. */
function isB64(value: unknown, length: number): value is string {
  return typeof value === 'string' && value.length === length && B64_RE.test(value)
}

const ICP_KEYS = ['v', 'type', 'did', 'seq', 'key', 'next', 'ts', 'sig'] as const
const REG_KEYS = ['v', 'type', 'did', 'name', 'capabilities', 'controller', 'peerId', 'ts', 'sig'] as const

/** The fields of a plain object with exactly the keys `keys`, else undefined. */
function exactly<K extends string>(input: unknown, keys: readonly K[]): Record<K, unknown> | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined
  if (Object.getPrototypeOf(input) !== Object.prototype) return undefined
  if (Object.keys(input).length !== keys.length || !keys.every((k) => Object.hasOwn(input, k))) return undefined
  return input as Record<K, unknown>
}

function isTs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TS
}

/** `input` as a typed `msg` envelope when it keeps to `msgSchema` exactly; undefined means "parse it with the schema". */
export function conformingMsg(input: unknown): MsgEnvelope | undefined {
  const fields = exactly(input, MSG_KEYS)
  if (fields === undefined) return undefined
  const { v, type, from, to, body, ts, nonce, sig } = fields
  if (v !== 1 || type !== 'msg' || !isDid(from) || (to !== null && !isDid(to))) return undefined
  if (typeof body !== 'string' || body.length > MAX_BODY_LENGTH) return undefined
  if (!isTs(ts) || !isB64(nonce, 24) || !isB64(sig, 88)) return undefined
  // a message this process signed and sealed is frozen with primitive fields: its own typed copy
  if (sealedBytes(input as object) !== undefined) return input as MsgEnvelope
  return { v, type, from, to, body, ts, nonce, sig }
}

/** `input` as a typed `icp` envelope when it keeps to `icpSchema` exactly; undefined means "parse it with the schema". */
export function conformingIcp(input: unknown): IcpEnvelope | undefined {
  const fields = exactly(input, ICP_KEYS)
  if (fields === undefined) return undefined
  const { v, type, did, seq, key, next, ts, sig } = fields
  if (v !== 1 || type !== 'icp' || !isDid(did) || seq !== 0 || !isB64(key, 44)) return undefined
  if ((next !== null && !isB64(next, 44)) || !isTs(ts) || !isB64(sig, 88)) return undefined
  return { v, type, did, seq, key, next, ts, sig }
}

function capabilityOf(input: unknown): RegEnvelope['capabilities'][number] | undefined {
  const fields = exactly(input, ['type', 'confidence']) ?? exactly(input, ['type'])
  if (fields === undefined) return undefined
  const { type, confidence } = fields as { type: unknown; confidence?: unknown }
  if (typeof type !== 'string' || type.length < 1 || type.length > 64 || !CAPABILITY_TYPE_RE.test(type))
    return undefined
  if (!Object.hasOwn(fields, 'confidence')) return { type }
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) return undefined
  return { type, confidence }
}

/** `input` as a typed `reg` envelope when it keeps to `regSchema` exactly; undefined means "parse it with the schema". */
export function conformingReg(input: unknown): RegEnvelope | undefined {
  const fields = exactly(input, REG_KEYS)
  if (fields === undefined) return undefined
  const { v, type, did, name, capabilities, controller, peerId, ts, sig } = fields
  if (v !== 1 || type !== 'reg' || !isDid(did) || !isDid(controller) || !isTs(ts) || !isB64(sig, 88)) return undefined
  if (typeof name !== 'string' || name.length < 1 || name.length > 128) return undefined
  if (typeof peerId !== 'string' || peerId.length < 1 || peerId.length > 128) return undefined
  if (!Array.isArray(capabilities) || capabilities.length > 64) return undefined
  const caps: RegEnvelope['capabilities'] = []
  for (const c of capabilities as unknown[]) {
    const cap = capabilityOf(c)
    if (cap === undefined) return undefined
    caps.push(cap)
  }
  return { v, type, did, name, capabilities: caps, controller, peerId, ts, sig }
}

/** `input` as a typed envelope when one of the hand-written checks takes it; undefined means "parse it with the schema". */
export function conformingEnvelope(input: unknown): Envelope | undefined {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined
  if (type === 'msg') return conformingMsg(input)
  if (type === 'icp') return conformingIcp(input)
  if (type === 'reg') return conformingReg(input)
  return undefined
}
