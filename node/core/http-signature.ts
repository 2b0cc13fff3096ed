/**
 * HTTP request signing (docs/proxy.md): RFC 9421 signatures, `alg="ed25519"`,
 * `keyid` = the signer's DID, `tag="meshsig"`, with `created`, `expires` and
 * `nonce`, covering `@method @authority @path @query content-digest` (and
 * `content-type` when the request has one; a verifier requires `@query` and
 * `content-type` whenever the request has them). The signing proxy signs with
 * `signRequest`; a gateway checks with `verifyRequestSignature`. Pure: the
 * time, the nonce and the key lookup are arguments.
 */
import { serializeDictionary, type BareItem, type Item } from 'structured-headers'
import { publicKeyFromDid } from './did.js'
import { utf8 } from './encoding.js'
import { ClockSkewError, MalformedError, MeshsigError, ReplayError, SignatureInvalidError } from './errors.js'
import { KEY_LENGTH, verifySignature } from './keys.js'
import {
  contentDigest,
  contentDigestMatches,
  headerValue,
  integerParam,
  parseHttpSignatures,
  serializeSignatureInput,
  signatureBase,
  splitTarget,
  stringParam,
  type HttpRequestLike,
  type ParsedHttpSignature,
  type SignatureInputMember,
} from './http-signature-base.js'
import type { NonceSighting } from './nonce-cache.js'

export * from './http-signature-base.js'
export * from './nonce-cache.js'

/** The `tag` parameter of meshsig's signatures (RFC 9421 §2.3): how a verifier finds them. */
export const MESHSIG_HTTP_TAG = 'meshsig'
/** The label meshsig signs under in `Signature-Input` / `Signature`. */
export const MESHSIG_HTTP_LABEL = 'meshsig'
/** The one algorithm meshsig signs and accepts. */
export const HTTP_SIGNATURE_ALG = 'ed25519'
/** Lifetime of a proxy signature: `expires` = `created` + 60 s. */
export const HTTP_SIGNATURE_LIFETIME_MS = 60_000
/** Clock difference a verifier tolerates by default (±30 s). */
export const DEFAULT_HTTP_MAX_SKEW_MS = 30_000
/** Oldest `created` a verifier accepts by default, whatever `expires` says (5 min). */
export const DEFAULT_HTTP_MAX_AGE_MS = 5 * 60_000
/**
 * Components a meshsig signature must cover; `@query` too when the request
 * has a query, and `content-type` when it has one (docs/proxy.md, "What
 * `verifyRequestSignature` checks": a Content-Type added after signing
 * would change how the gateway reads a body the digest covers).
 */
export const REQUIRED_HTTP_COMPONENTS = ['@method', '@authority', '@path', 'content-digest'] as const

/** Anything that signs bytes with an Ed25519 key (a core `KeyPair` is one). */
export interface HttpSigner {
  /** Ed25519 signature of `data`. */
  sign(data: Uint8Array): Uint8Array
}

/** How `signRequest` signs. */
export interface SignRequestOptions {
  /** The signing key. */
  readonly signer: HttpSigner
  /** The signer's DID, put in `keyid`. */
  readonly keyid: string
  /** Now, ms since the epoch (`created` is this in whole seconds). */
  readonly now: number
  /** b64 of 16 random bytes, drawn by the caller. */
  readonly nonce: string
  /** `expires` - `created`; default 60 s. */
  readonly lifetimeMs?: number
  /** Covered components; default `defaultHttpComponents(request)`. */
  readonly components?: readonly string[]
}

/** The headers `signRequest` adds to a request (lowercase names). */
export interface SignedRequestHeaders {
  readonly 'content-digest': string
  readonly 'signature-input': string
  readonly signature: string
}

/** What meshsig covers: `@method @authority @path @query content-digest`, plus `content-type` when present. */
export function defaultHttpComponents(request: HttpRequestLike): string[] {
  const components = ['@method', '@authority', '@path', '@query', 'content-digest']
  if (headerValue(request.headers, 'content-type') !== undefined) components.push('content-type')
  return components
}

/**
 * Sign `request` (RFC 9421): computes its `Content-Digest` (the request's own
 * is replaced), builds the signature base and returns the three headers to set.
 */
export function signRequest(request: HttpRequestLike, options: SignRequestOptions): SignedRequestHeaders {
  const digest = contentDigest(request.body)
  const headers = { ...withoutSignatureHeaders(request.headers), 'content-digest': digest }
  const signed: HttpRequestLike = { ...request, headers }
  const created = Math.floor(options.now / 1000)
  const expires = created + Math.ceil((options.lifetimeMs ?? HTTP_SIGNATURE_LIFETIME_MS) / 1000)
  const params = new Map<string, BareItem>([
    ['created', created],
    ['expires', expires],
    ['nonce', options.nonce],
    ['alg', HTTP_SIGNATURE_ALG],
    ['keyid', options.keyid],
    ['tag', MESHSIG_HTTP_TAG],
  ])
  const input: SignatureInputMember = { components: options.components ?? defaultHttpComponents(signed), params }
  const signature = options.signer.sign(utf8(signatureBase(signed, input)))
  return {
    'content-digest': digest,
    'signature-input': `${MESHSIG_HTTP_LABEL}=${serializeSignatureInput(input)}`,
    signature: serializeDictionary(new Map([[MESHSIG_HTTP_LABEL, [signature, new Map()] as Item]])),
  }
}

const SIGNATURE_HEADERS = new Set(['content-digest', 'signature-input', 'signature'])

/** `headers` without any Content-Digest, Signature-Input or Signature (a signer sets its own). */
export function withoutSignatureHeaders<T>(headers: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !SIGNATURE_HEADERS.has(k.toLowerCase())))
}

/** A looked-up signer key: raw 32 bytes, or undefined for an unknown signer. */
export type ResolvedKey = Uint8Array | undefined

/** How `verifyRequestSignature` checks. */
export interface VerifyRequestOptions {
  /** Now, ms since the epoch. */
  readonly now: number
  /** Tolerated clock difference (ms), default 30 s. */
  readonly maxSkewMs?: number
  /** Oldest `created` accepted (ms before now, plus skew), default 5 min. */
  readonly maxAgeMs?: number
  /**
   * The signer's current public key for a `keyid` (a DID), or undefined when
   * unknown. For a did:msig that may have rotated ask its node (`GET /keys/:did`).
   */
  resolveKey(keyid: string): ResolvedKey | Promise<ResolvedKey>
  /**
   * Replay check: true when (keyid, nonce) was seen before; records it
   * otherwise. A MeshsigError it throws refuses the request with its code
   * (`NonceCache`: RATE_LIMITED when full). See `NonceCache`.
   */
  seenNonce?(sighting: NonceSighting): boolean
}

/** A meshsig signature that verified. Times are RFC 9421 integers (seconds since the epoch). */
export interface VerifiedHttpSignature {
  readonly label: string
  /** The signer's DID. */
  readonly keyid: string
  readonly created: number
  readonly expires: number
  readonly nonce: string
  readonly components: readonly string[]
}

/**
 * The outcome of `verifyRequestSignature`. Error codes: MALFORMED (missing or
 * unparsable headers or parameters), UNKNOWN_SIGNER, SIGNATURE_INVALID (bad
 * signature, digest or required component not covered), CLOCK_SKEW (expired,
 * too old, created in the future), REPLAY, RATE_LIMITED (a `NonceCache` full
 * of nonces that may still verify).
 */
export type HttpSignatureVerdict =
  | { readonly ok: true; readonly signature: VerifiedHttpSignature }
  | { readonly ok: false; readonly error: MeshsigError }

interface MeshsigParams {
  readonly keyid: string
  readonly created: number
  readonly expires: number
  readonly nonce: string
}

/** The single signature tagged `meshsig`; MALFORMED when there is none or more than one. */
function meshsigSignature(request: HttpRequestLike): ParsedHttpSignature {
  const tagged = parseHttpSignatures(request.headers).filter((s) => s.params.get('tag') === MESHSIG_HTTP_TAG)
  if (tagged.length !== 1) {
    throw new MalformedError(tagged.length === 0 ? 'no signature tagged meshsig' : 'more than one meshsig signature')
  }
  const sig = tagged[0] as ParsedHttpSignature
  // parseHttpSignatures keeps other signers' parametrised components serialised ("name";key=…): not ours
  if (sig.components.some((c) => c.startsWith('"'))) {
    throw new MalformedError(`Signature-Input ${sig.label}: component parameters are unsupported`)
  }
  return sig
}

function requiredParams(sig: ParsedHttpSignature): MeshsigParams {
  const alg = stringParam(sig.params, 'alg')
  if (alg !== HTTP_SIGNATURE_ALG) throw new MalformedError(`alg must be "${HTTP_SIGNATURE_ALG}"`)
  const keyid = stringParam(sig.params, 'keyid')
  const nonce = stringParam(sig.params, 'nonce')
  const created = integerParam(sig.params, 'created')
  const expires = integerParam(sig.params, 'expires')
  if (keyid === undefined || nonce === undefined || created === undefined || expires === undefined) {
    throw new MalformedError('a meshsig signature needs keyid, nonce, created and expires')
  }
  if (expires < created) throw new MalformedError('expires is before created')
  return { keyid, nonce, created, expires }
}

function checkCoverage(request: HttpRequestLike, sig: ParsedHttpSignature): void {
  const required: string[] = [...REQUIRED_HTTP_COMPONENTS]
  if (splitTarget(request.path).query !== '?') required.push('@query')
  if (headerValue(request.headers, 'content-type') !== undefined) required.push('content-type')
  const missing = required.filter((c) => !sig.components.includes(c))
  if (missing.length > 0) {
    throw new SignatureInvalidError(`signature does not cover ${missing.join(', ')}`, { missing })
  }
}

function checkTime(p: MeshsigParams, options: VerifyRequestOptions): number {
  const skew = options.maxSkewMs ?? DEFAULT_HTTP_MAX_SKEW_MS
  const created = p.created * 1000
  const deadline = Math.min(p.expires * 1000, created + (options.maxAgeMs ?? DEFAULT_HTTP_MAX_AGE_MS)) + skew
  if (created > options.now + skew) throw new ClockSkewError('signature created in the future', { created: p.created })
  if (options.now > deadline) throw new ClockSkewError('signature expired', { expires: p.expires })
  return deadline
}

async function publicKeyOf(keyid: string, options: VerifyRequestOptions): Promise<Uint8Array> {
  const key = await options.resolveKey(keyid)
  if (key === undefined) throw new MeshsigError('UNKNOWN_SIGNER', `unknown signer ${keyid.slice(0, 128)}`)
  if (key.length !== KEY_LENGTH) throw new MeshsigError('INVALID_KEY', 'resolved key is not an Ed25519 public key')
  return key
}

async function verifyOrThrow(request: HttpRequestLike, options: VerifyRequestOptions): Promise<VerifiedHttpSignature> {
  const sig = meshsigSignature(request)
  const p = requiredParams(sig)
  checkCoverage(request, sig)
  const base = signatureBase(request, sig)
  const key = await publicKeyOf(p.keyid, options)
  if (!verifySignature(utf8(base), sig.signature, key)) throw new SignatureInvalidError()
  const keepUntil = checkTime(p, options)
  const digest = headerValue(request.headers, 'content-digest') ?? ''
  if (!contentDigestMatches(digest, request.body)) {
    throw new SignatureInvalidError('Content-Digest does not match the body', { component: 'content-digest' })
  }
  if (options.seenNonce?.({ keyid: p.keyid, nonce: p.nonce, keepUntil, now: options.now })) {
    throw new ReplayError('nonce seen before', { keyid: p.keyid })
  }
  return { label: sig.label, ...p, components: sig.components }
}

/**
 * Verify the meshsig signature of a request (the gateway side of docs/proxy.md).
 * Order: parse, parameters, coverage, signature, time, digest, nonce — so a
 * forgery is SIGNATURE_INVALID whatever its times, and only a request that
 * passed everything else spends its nonce. Never throws a MeshsigError:
 * failures come back as `{ ok: false, error }`.
 */
export async function verifyRequestSignature(
  request: HttpRequestLike,
  options: VerifyRequestOptions,
): Promise<HttpSignatureVerdict> {
  try {
    return { ok: true, signature: await verifyOrThrow(request, options) }
  } catch (err) {
    if (err instanceof MeshsigError) return { ok: false, error: err }
    throw err
  }
}

/**
 * A `resolveKey` for signers whose DID names their key: did:key, and did:msig
 * that never rotated (a did:msig names its inception key). Undefined for
 * anything else. A gateway that must follow rotations asks the node instead
 * through `MeshsigClient.keyState(did)`, which replays the DID's signed key
 * events itself and fails (`KEL_INVALID`) when they do not prove the key the
 * server names (docs/proxy.md): never a key taken from a raw `GET /keys/:did`
 * answer, which any server on the node's port can make up.
 */
export function resolveInceptionKey(keyid: string): ResolvedKey {
  try {
    return publicKeyFromDid(keyid)
  } catch {
    return undefined
  }
}
