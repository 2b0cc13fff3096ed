/**
 * The wire shapes of docs/protocol.md §4 envelopes, as zod schemas. Strict: an unknown
 * field is malformed, so what is signed is exactly what is checked.
 */
import * as z from 'zod'
import { B64_RE } from './b64-pattern.js'

/** Largest accepted message body, in UTF-16 code units. */
export const MAX_BODY_LENGTH = 256 * 1024

/** A did:msig DID: the only spelling inside envelopes. */
export const MSIG_DID_RE = /^did:msig:[1-9A-HJ-NP-Za-km-z]+$/
/** A capability type: letters, digits and . _ : / - */
export const CAPABILITY_TYPE_RE = /^[A-Za-z0-9._:/-]+$/
/**
 * Canonical base64 of `bytes` bytes (`B64_RE`, docs/protocol.md §1), fields
 * decoded or not (`next`, `root` and `nonce` are compared as text): the
 * hand-written checks of envelope-fast.ts use the same pattern.
 */
export const b64Field = (bytes: number): z.ZodString =>
  z
    .string()
    .length(Math.ceil(bytes / 3) * 4)
    .regex(B64_RE, 'must be canonical standard base64 (unused bits zero)')
/**
 * DIDs inside envelopes are did:msig only: one spelling per identity in
 * signed data, so no alias (did:key of the same key) can escape the key event
 * log, a revocation or the replay cache. Faces accept did:key and raw keys
 * and normalise them before anything is signed.
 */
const did = z.string().max(128).regex(MSIG_DID_RE, 'must be a did:msig DID (faces normalise did:key before signing)')
/** Latest time a JavaScript Date holds (ms): a signed time past it could not be shown (docs/protocol.md §3). */
export const MAX_TS = 8_640_000_000_000_000
const ts = z.number().int().nonnegative().max(MAX_TS)
const seq = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 31)
const hex256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256')
const key = b64Field(32)
const sig = b64Field(64)

/** A capability an agent offers, with optional self-declared confidence in [0, 1]. */
export const capabilitySchema = z.strictObject({
  type: z.string().min(1).max(64).regex(CAPABILITY_TYPE_RE, 'capability type uses letters, digits and . _ : / -'),
  confidence: z.number().min(0).max(1).optional(),
})

/** `msg`: a signed message between agents (or a broadcast when `to` is null). */
export const msgSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('msg'),
  from: did,
  to: did.nullable(),
  body: z.string().max(MAX_BODY_LENGTH),
  ts,
  nonce: b64Field(16),
  sig,
})

/** `reg`: an agent's registration, hosted by the node `controller`. */
export const regSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('reg'),
  did,
  name: z.string().min(1).max(128),
  capabilities: z.array(capabilitySchema).max(64),
  controller: did,
  peerId: z.string().min(1).max(128),
  ts,
  sig,
})

/** `icp`: inception of a DID's key event log. */
export const icpSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('icp'),
  did,
  seq: z.literal(0),
  key,
  next: b64Field(32).nullable(),
  ts,
  sig,
})

/** `rot`: a key rotation, signed by the old key (`sig`) and the new (`sig2`). */
export const rotSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('rot'),
  did,
  seq: seq.min(1),
  prev: hex256,
  key,
  next: b64Field(32).nullable(),
  ts,
  sig,
  sig2: sig,
})

/** `rev`: final revocation of a DID. */
export const revSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('rev'),
  did,
  seq: seq.min(1),
  prev: hex256,
  reason: z.string().max(512),
  ts,
  sig,
})

/** `chk`: an audit checkpoint signed by its node. */
export const chkSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('chk'),
  origin: did,
  size: z.number().int().nonnegative(),
  root: b64Field(32),
  ts,
  sig,
})

/** The type name of a delivery receipt (docs/protocol.md §10), bound into its signing input. */
export const RECEIPT_TYPE = 'rcp' as const

/**
 * `rcp`: message `msg` to `to` was delivered to `node`, the node hosting `to`,
 * at `ts` (docs/protocol.md §10). Not an envelope of the mesh: never gossiped.
 */
export const receiptSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal(RECEIPT_TYPE),
  msg: hex256,
  to: did,
  node: did,
  ts,
  sig,
})

/** Any envelope, discriminated by `type`. */
export const envelopeSchema = z.discriminatedUnion('type', [
  msgSchema,
  regSchema,
  icpSchema,
  rotSchema,
  revSchema,
  chkSchema,
])

/** A signed `msg` envelope. */
export type MsgEnvelope = z.infer<typeof msgSchema>
/** A signed `reg` envelope. */
export type RegEnvelope = z.infer<typeof regSchema>
/** A signed `icp` envelope. */
export type IcpEnvelope = z.infer<typeof icpSchema>
/** A signed `rot` envelope (with `sig2` by the new key). */
export type RotEnvelope = z.infer<typeof rotSchema>
/** A signed `rev` envelope. */
export type RevEnvelope = z.infer<typeof revSchema>
/** A signed `chk` envelope. */
export type ChkEnvelope = z.infer<typeof chkSchema>
/** Any signed envelope. */
export type Envelope = z.infer<typeof envelopeSchema>
/** The envelope types of docs/protocol.md §4. */
export type EnvelopeType = Envelope['type']
/** A key event: inception, rotation or revocation. */
export type KeyEvent = IcpEnvelope | RotEnvelope | RevEnvelope
/** A signed delivery receipt. */
export type Receipt = z.infer<typeof receiptSchema>
