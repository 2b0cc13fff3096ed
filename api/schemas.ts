/**
 * Request schemas (zod, strict: unknown fields are refused) and the one
 * helper that turns a failed parse into a 400 `{error, code}` naming the field.
 */
import * as z from 'zod'
import { capabilitySchema, MAX_BODY_LENGTH, MAX_TS } from '../node/core/envelope-schema.js'
import { MeshsigError } from '../node/core/errors.js'

const id = z.string().min(1).max(256)
const secret = z.string().min(1).max(256)
/**
 * An envelope is passed on as parsed, not copied: acceptance's strict schema then sees every own key,
 * including one named `__proto__` (a copy by assignment would turn that key into the copy's prototype).
 */
const envelope = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected an object (a signed envelope)',
)
const message = z.string().max(MAX_BODY_LENGTH)
const capabilities = z.array(capabilitySchema).max(64)

/** `POST /verify`: a plain signature and its signer (`did`, `publicKey` or `signer`). */
export const verifyBody = z
  .strictObject({
    message,
    signature: z.string().max(256),
    did: id.optional(),
    publicKey: id.optional(),
    signer: id.optional(),
  })
  .refine((b) => [b.did, b.publicKey, b.signer].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of did, publicKey or signer',
    path: ['did'],
  })

/** Proof of a bring-your-own-key registration: the agent's signed inception and registration. */
export const registrationProof = z.strictObject({ icp: envelope, reg: envelope })

/** `POST /agents/register`: node-generated keys, or bring your own (`publicKey` + `proof`). */
export const registerBody = z
  .strictObject({
    name: z.string().min(1).max(128),
    capabilities: capabilities.optional(),
    publicKey: id.optional(),
    proof: registrationProof.optional(),
  })
  .refine((b) => (b.publicKey === undefined) === (b.proof === undefined), {
    message: 'bring-your-own-key registration needs both publicKey and proof',
    path: ['proof'],
  })

/** `POST /agents/rotate-key`. */
export const rotateBody = z
  .strictObject({
    did: id.optional(),
    envelope: envelope.optional(),
    registration: envelope.optional(),
    keyProof: envelope.optional(),
    currentPrivateKey: secret.optional(),
    nextPrivateKey: secret.optional(),
  })
  .refine((b) => b.did !== undefined || b.envelope !== undefined, { message: 'did is required', path: ['did'] })

/** `POST /agents/revoke`. */
export const revokeBody = z
  .strictObject({
    did: id.optional(),
    reason: z
      .string()
      .max(512)
      .refine((r) => r.isWellFormed(), 'reason holds a lone UTF-16 surrogate, which no signed envelope can carry')
      .optional(),
    envelope: envelope.optional(),
    privateKey: secret.optional(),
  })
  .refine((b) => b.did !== undefined || b.envelope !== undefined, { message: 'did is required', path: ['did'] })

const limit = z.number().int().min(1).max(1000)

/** `POST /discover`. */
export const discoverBody = z.strictObject({
  capability: z.string().min(1).max(64).optional(),
  minConfidence: z.number().min(0).max(1).optional(),
  limit: limit.optional(),
  /** `"a2a"`: also the signed A2A cards of the hosted agents found (docs/api.md, POST /discover). */
  format: z.literal('a2a').optional(),
})

/** `POST /discover/network`. */
export const discoverNetworkBody = z.strictObject({
  capability: z.string().min(1).max(64),
  minConfidence: z.number().min(0).max(1).optional(),
  limit: limit.optional(),
  /** `"a2a"`: also the signed A2A cards of the hosted agents found (docs/api.md, POST /discover/network). */
  format: z.literal('a2a').optional(),
})

/** `POST /messages/send`: a pre-signed envelope, or fields for the node to sign. */
export const sendBody = z.union([
  z.strictObject({ envelope }),
  z.strictObject({ fromDid: id, toDid: id.nullable(), message, privateKey: secret.optional() }),
])

/** The `fromDid` form of `sendBody`. */
export type SendFromDid = { fromDid: string; toDid: string | null; message: string; privateKey?: string }

const SEND_KEYS: ReadonlySet<string> = new Set(['fromDid', 'toDid', 'message', 'privateKey'])

function isText(value: unknown, max: number, min = 1): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max
}

/**
 * The `fromDid` form of `sendBody` checked by hand: it is the body of every
 * send, and the schema's union cost more than the rest of reading it.
 * Undefined means "ask the schema", which then gives every error its own
 * words; a property test holds the two to the same verdicts.
 */
export function conformingSendBody(input: unknown): SendFromDid | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined
  const b = input as Record<string, unknown>
  const keys = Object.keys(b)
  if (!keys.every((k) => SEND_KEYS.has(k)) || !Object.hasOwn(b, 'toDid')) return undefined
  const { fromDid, toDid, message, privateKey } = b
  if (!isText(fromDid, 256) || !(toDid === null || isText(toDid, 256)) || !isText(message, MAX_BODY_LENGTH, 0)) {
    return undefined
  }
  if (!Object.hasOwn(b, 'privateKey')) return { fromDid, toDid, message }
  return isText(privateKey, 256) ? { fromDid, toDid, message, privateKey } : undefined
}

/** `POST /messages/verify`: a plain signature by a DID, or an envelope. */
export const messageVerifyBody = z.union([
  z.strictObject({ envelope }),
  z.strictObject({ did: id, message, signature: z.string().max(256) }),
])

/** `POST /handshake`. */
export const handshakeBody = z.strictObject({ fromDid: id, toDid: id, privateKey: secret.optional() })

/** `POST /peers/connect`: a multiaddr with /p2p/ or a seed address ws://host:port. */
export const connectBody = z
  .strictObject({ address: id.optional(), url: id.optional(), multiaddr: id.optional() })
  .refine((b) => [b.address, b.url, b.multiaddr].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of address, url or multiaddr',
    path: ['address'],
  })

const intParam = (max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))

/** `GET /messages` query. */
export const messagesQuery = z.strictObject({
  limit: intParam(1000).optional(),
  before: intParam(Number.MAX_SAFE_INTEGER).optional(),
  did: id.optional(),
})

/**
 * The `cursor` of a list page (`GET /agents`, `GET /revoked`): the `next` of
 * the page before, `<n>.<did>` of its last row (an agent's registration time
 * in ms, a revocation's place in the list: api/list-page.ts), as `{ms, did}`;
 * up to 16 digits and `MAX_TS`.
 */
const cursorParam = z
  .string()
  .regex(/^\d{1,16}\.did:msig:[1-9A-HJ-NP-Za-km-z]{1,64}$/, 'must be the next of the page before')
  .transform((text) => {
    const dot = text.indexOf('.')
    return { ms: Number(text.slice(0, dot)), did: text.slice(dot + 1) }
  })
  .refine((c) => c.ms <= MAX_TS, 'must be the next of the page before')

/** A `cursor` is a place in a page of `limit` rows: without a `limit` the whole list is answered. */
const cursorNeedsLimit = (q: { limit?: number; cursor?: unknown }): boolean =>
  q.cursor === undefined || q.limit !== undefined

/** `GET /agents` query. */
export const agentsQuery = z
  .strictObject({
    capability: z.string().min(1).max(64).optional(),
    origin: z.enum(['local', 'remote']).optional(),
    status: z.enum(['active', 'revoked']).optional(),
    limit: intParam(10_000).optional(),
    cursor: cursorParam.optional(),
  })
  .refine(cursorNeedsLimit, { message: 'a cursor needs a limit', path: ['cursor'] })

/** `GET /revoked` query. */
export const revokedQuery = z
  .strictObject({ limit: intParam(10_000).optional(), cursor: cursorParam.optional() })
  .refine(cursorNeedsLimit, { message: 'a cursor needs a limit', path: ['cursor'] })

/** Rows of one list of a `GET /trust` page, and connections of a `GET /trust/:did` answer, when no `limit` is given. */
export const TRUST_PAGE_DEFAULT = 1000

/** A trust list's cursor key: a DID, PeerId or `api:<address>` (up to 256 characters, as `id`). */
const trustKey = z.string().max(256).nullable()

/**
 * The `cursor` of a `GET /trust` page: the `next` of the page before, base64url of the JSON
 * `[agents, peers, connections]`, each the last key answered of that list or null when it is done.
 */
const trustCursorParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,2048}$/, 'must be the next of the page before')
  .transform((text, ctx) => {
    try {
      return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be the next of the page before' })
      return z.NEVER
    }
  })
  .pipe(z.tuple([trustKey, trustKey, trustKey], { error: 'must be the next of the page before' }))
  .transform(([agents, peers, connections]) => ({ agents, peers, connections }))

/** `GET /trust` query (decision 0081). */
export const trustQuery = z.strictObject({ limit: intParam(1000).optional(), cursor: trustCursorParam.optional() })

/** `GET /trust/:did` query: `cursor` is the `next` of the answer before (the other DID of its last connection). */
export const agentTrustQuery = z.strictObject({
  limit: intParam(1000).optional(),
  cursor: z
    .string()
    .regex(/^did:msig:[1-9A-HJ-NP-Za-km-z]{1,64}$/, 'must be the next of the answer before')
    .optional(),
})

/**
 * `GET /connections` query (docs/api.md): `limit` (up to 10,000 accepted, a page holds at most
 * `LIST_PAGE_MAX`), and `cursor`, the `next` of the page before: `<ms>.<id>` of its last connection.
 */
export const connectionsQuery = z.strictObject({
  limit: intParam(10_000).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,16}\.[0-9a-f]{64}$/, 'must be the next of the page before')
    .transform((text) => {
      const dot = text.indexOf('.')
      return { at: Number(text.slice(0, dot)), id: text.slice(dot + 1) }
    })
    .refine((c) => c.at <= MAX_TS, 'must be the next of the page before')
    .optional(),
})

/** `GET /duplicity` query: `limit` as `/connections`, `cursor` the `next` of the page before (a conflicting event id). */
export const duplicityQuery = z.strictObject({
  limit: intParam(10_000).optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be the next of the page before')
    .optional(),
})

function describe(issue: z.core.$ZodIssue): { field: string; text: string } {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${issue.path.join('.')}.` : ''
    return { field: where + issue.keys.join(','), text: `unknown field ${issue.keys.map((k) => where + k).join(', ')}` }
  }
  const field = issue.path.length ? issue.path.join('.') : 'body'
  return { field, text: `${field}: ${issue.message}` }
}

/** Parse untrusted input; a failure is `INVALID_INPUT` (400) naming the first offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(input ?? (what === 'body' ? {} : input))
  if (result.success) return refuseSecretAsIdentifier(result.data)
  const issue = pickIssue(result.error.issues)
  const { field, text } = issue ? describe(issue) : { field: what, text: `${what} is invalid` }
  throw new MeshsigError('INVALID_INPUT', text, { field })
}

const SECRET_FIELDS = ['privateKey', 'currentPrivateKey', 'nextPrivateKey'] as const
const IDENTIFIER_FIELDS = ['fromDid', 'toDid', 'did', 'signer', 'publicKey'] as const

/**
 * A private key pasted where a DID or public key goes would be published as
 * one (a b64 seed reads as a b64 public key, and an identifier lands in
 * messages, the audit log and gossip: docs/protocol.md §1). A body whose
 * identifier field equals one of its own private keys is refused before
 * anything is done or recorded; the answer does not repeat the key.
 */
export function refuseSecretAsIdentifier<T>(body: T): T {
  if (typeof body !== 'object' || body === null) return body
  const b = body as Record<string, unknown>
  for (const secret of SECRET_FIELDS) {
    const value = b[secret]
    if (typeof value !== 'string') continue
    const field = IDENTIFIER_FIELDS.find((f) => b[f] === value)
    if (field !== undefined) {
      throw new MeshsigError(
        'INVALID_INPUT',
        `${field} is the ${secret} of this request, not a DID: nothing was done`,
        {
          field,
        },
      )
    }
  }
  return body
}

/** For unions, zod reports `invalid_union`: dig out the most telling branch issue. */
function pickIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  const first = issues[0]
  if (first?.code !== 'invalid_union') return first
  const branches = first.errors
  const best = branches.reduce<readonly z.core.$ZodIssue[] | undefined>(
    (acc, b) => (acc === undefined || b.length < acc.length ? b : acc),
    undefined,
  )
  return best?.[0] ?? first
}
