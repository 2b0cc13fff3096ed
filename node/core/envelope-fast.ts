/**
 * The `msg` check of `msgSchema` (envelope-schema.ts) written out by hand:
 * messages are the envelopes a node takes most often (every send, every
 * delivery), and the schema's parse cost more than the rest of taking one
 * apart from the signature. It answers only "conforms" (with the typed copy)
 * or "ask the schema": `parseEnvelope` then runs the schema, so every error
 * is the schema's own. A property test holds it to the schema's verdicts.
 */
import { MAX_BODY_LENGTH, type MsgEnvelope } from './envelope-schema.js'

const MSG_KEYS = ['v', 'type', 'from', 'to', 'body', 'ts', 'nonce', 'sig'] as const
const DID_RE = /^did:msig:[1-9A-HJ-NP-Za-km-z]+$/
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function isDid(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 128 && DID_RE.test(value)
}

function isB64(value: unknown, length: number): value is string {
  return typeof value === 'string' && value.length === length && B64_RE.test(value)
}

/** `input` as a typed `msg` envelope when it keeps to `msgSchema` exactly; undefined means "parse it with the schema". */
export function conformingMsg(input: unknown): MsgEnvelope | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined
  if (Object.getPrototypeOf(input) !== Object.prototype) return undefined
  const keys = Object.keys(input)
  if (keys.length !== MSG_KEYS.length || !MSG_KEYS.every((k) => Object.hasOwn(input, k))) return undefined
  const { v, type, from, to, body, ts, nonce, sig } = input as Record<(typeof MSG_KEYS)[number], unknown>
  if (v !== 1 || type !== 'msg' || !isDid(from) || (to !== null && !isDid(to))) return undefined
  if (typeof body !== 'string' || body.length > MAX_BODY_LENGTH) return undefined
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) return undefined
  if (!isB64(nonce, 24) || !isB64(sig, 88)) return undefined
  return { v, type, from, to, body, ts, nonce, sig }
}
