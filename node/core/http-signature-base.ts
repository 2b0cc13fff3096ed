/**
 * RFC 9421 building blocks (docs/proxy.md): component values, the signature base,
 * `Signature-Input` / `Signature` parsing with structured fields (RFC 8941),
 * and RFC 9530 `Content-Digest` (sha-256). Pure: no I/O, no clock.
 *
 * Derived components supported: `@method`, `@authority`, `@path`, `@query`,
 * `@request-target`; any header field by its lowercase name. Component
 * parameters (`;sf`, `;key`, `;req`, …) are not supported and are refused.
 */
import {
  parseDictionary,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  type BareItem,
  type InnerList,
  type Item,
  type Parameters,
} from 'structured-headers'
import { toB64, utf8 } from './encoding.js'
import { MalformedError, MeshsigError, SignatureInvalidError } from './errors.js'
import { sha256 } from './keys.js'

/** One header value as node:http gives it (`IncomingHttpHeaders`): a string, several, or none. */
export type HttpHeaderValue = string | readonly string[] | number | undefined

/** Request headers by name; names are matched case-insensitively. */
export type HttpHeaders = Readonly<Record<string, HttpHeaderValue>>

/** What the signature covers of a request, as the server received it. */
export interface HttpRequestLike {
  /** The method, as sent (`GET`, `POST`, …). */
  readonly method: string
  /** The target authority: the `Host` header as received (`example.com`, `127.0.0.1:3001`). */
  readonly authority: string
  /** The request target as received (`req.url` in node:http): the path and an optional `?query`. */
  readonly path: string
  /** The request headers. */
  readonly headers: HttpHeaders
  /** The body (absent or empty for none); a string is taken as its UTF-8 bytes. */
  readonly body?: Uint8Array | string
}

/** A parsed `Signature-Input` member: covered component names and the signature parameters, in order. */
export interface SignatureInputMember {
  /** Covered component identifiers (`@method`, `content-digest`, …), in order. */
  readonly components: readonly string[]
  /** Signature parameters (`created`, `keyid`, …) in the order they were given. */
  readonly params: Parameters
}

/** A signature found in a request: its label, what it covers and its bytes. */
export interface ParsedHttpSignature extends SignatureInputMember {
  /** The dictionary key shared by `Signature-Input` and `Signature`. */
  readonly label: string
  /** The raw signature bytes. */
  readonly signature: Uint8Array
}

const DERIVED = new Set(['@method', '@authority', '@path', '@query', '@request-target'])
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

/** Split a request target into its path (`/` when empty) and its query with the leading `?` (`?` when absent). */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(rest)
  if (scheme) rest = rest.slice(scheme[0].length)
  const hash = rest.indexOf('#')
  if (hash >= 0) rest = rest.slice(0, hash)
  const q = rest.indexOf('?')
  const path = q >= 0 ? rest.slice(0, q) : rest
  return { path: path === '' ? '/' : path, query: q >= 0 ? rest.slice(q) : '?' }
}

/**
 * The value of header `name` (case-insensitive) as RFC 9421 §2.1 defines it:
 * each field line trimmed, several lines joined with `, `; undefined when absent.
 */
export function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase()
  const values: string[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue
    if (typeof value === 'string' || typeof value === 'number') values.push(String(value).trim())
    else values.push(...value.map((v) => v.trim()))
  }
  return values.length === 0 ? undefined : values.join(', ')
}

/**
 * The value of one covered component of `request`. Throws `MalformedError`
 * for an unsupported component and `SignatureInvalidError` for a covered
 * header the request does not carry.
 */
export function componentValue(request: HttpRequestLike, name: string): string {
  if (name.startsWith('@')) {
    if (!DERIVED.has(name)) throw new MalformedError(`unsupported derived component ${name}`)
    if (name === '@method') return request.method
    if (name === '@authority') return request.authority.trim().toLowerCase()
    if (name === '@request-target') return request.path
    const { path, query } = splitTarget(request.path)
    return name === '@path' ? path : query
  }
  if (!HEADER_NAME.test(name)) throw new MalformedError(`not a lowercase header field name: ${name.slice(0, 64)}`)
  const value = headerValue(request.headers, name)
  if (value === undefined) throw new SignatureInvalidError(`covered header ${name} is absent`, { component: name })
  return value
}

/** The `Signature-Input` member text of `input`: `("@method" …);created=…;…`. */
export function serializeSignatureInput(input: SignatureInputMember): string {
  const items: Item[] = input.components.map((c) => [c, new Map()])
  return serializeInnerList([items, input.params])
}

/**
 * The RFC 9421 §2.5 signature base of `request` for `input`: one line per
 * covered component, then the `@signature-params` line, joined by LF with no
 * trailing newline.
 */
export function signatureBase(request: HttpRequestLike, input: SignatureInputMember): string {
  const seen = new Set<string>()
  const lines: string[] = []
  for (const name of input.components) {
    if (seen.has(name)) throw new MalformedError(`component ${name} is covered twice`)
    if (name === '@signature-params') throw new MalformedError('@signature-params cannot be covered')
    seen.add(name)
    lines.push(`"${name}": ${componentValue(request, name)}`)
  }
  lines.push(`"@signature-params": ${serializeSignatureInput(input)}`)
  return lines.join('\n')
}

/** Bytes of a body: UTF-8 of a string, the bytes themselves, or none. */
export function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0)
  return typeof body === 'string' ? utf8(body) : body
}

/** The RFC 9530 `Content-Digest` value of `body`: `sha-256=:<b64 SHA-256>:`. */
export function contentDigest(body: Uint8Array | string | undefined): string {
  return serializeDictionary(new Map([['sha-256', [sha256(bodyBytes(body)), new Map()] as Item]]))
}

/**
 * True when the `Content-Digest` header `value` holds a `sha-256` member that
 * equals the SHA-256 of `body`. Throws `MalformedError` when the header is not
 * a structured dictionary or has no sha-256 byte sequence.
 */
export function contentDigestMatches(value: string, body: Uint8Array | string | undefined): boolean {
  let member: Item | InnerList | undefined
  try {
    member = parseDictionary(value).get('sha-256')
  } catch {
    throw new MalformedError('Content-Digest is not a structured field dictionary')
  }
  const digest = member === undefined ? undefined : bytesOf(member[0])
  if (digest === undefined) throw new MalformedError('Content-Digest has no sha-256 byte sequence')
  return toB64(digest) === toB64(sha256(bodyBytes(body)))
}

function bytesOf(value: BareItem | Item[]): Uint8Array | undefined {
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (value instanceof Uint8Array) return value
  return undefined
}

function parseHeaderDictionary(headers: HttpHeaders, name: string): Map<string, Item | InnerList> {
  const text = headerValue(headers, name)
  if (text === undefined) throw new MalformedError(`no ${name} header`)
  try {
    return parseDictionary(text)
  } catch (err) {
    throw new MalformedError(`${name} is not a structured field dictionary: ${(err as Error).message}`)
  }
}

function inputMember(label: string, member: Item | InnerList): SignatureInputMember {
  const [items, params] = member
  if (!Array.isArray(items)) throw new MalformedError(`Signature-Input ${label} is not an inner list`)
  const components = items.map(([name, itemParams]) => {
    if (typeof name !== 'string') throw new MalformedError(`Signature-Input ${label}: components must be strings`)
    // Another signer's member (Web Bot Auth's `"signature-agent";key="sig1"`, docs/interop.md) may carry
    // component parameters: kept serialised, a form componentValue refuses, so only that member fails.
    return itemParams.size > 0 ? serializeItem([name, itemParams]) : name
  })
  return { components, params }
}

/**
 * Every signature of a request: the `Signature-Input` and `Signature`
 * dictionaries read with structured-headers, paired by label. Throws
 * `MalformedError` when either header is missing or malformed, or a label
 * has an input but no signature.
 */
export function parseHttpSignatures(headers: HttpHeaders): ParsedHttpSignature[] {
  const inputs = parseHeaderDictionary(headers, 'signature-input')
  const signatures = parseHeaderDictionary(headers, 'signature')
  const out: ParsedHttpSignature[] = []
  for (const [label, member] of inputs) {
    const sig = signatures.get(label)
    const bytes = sig === undefined || Array.isArray(sig[0]) ? undefined : bytesOf(sig[0])
    if (bytes === undefined) throw new MalformedError(`Signature has no byte sequence for label ${label}`)
    out.push({ label, ...inputMember(label, member), signature: bytes })
  }
  return out
}

/** A string parameter of a signature, or undefined; throws `MalformedError` for another type. */
export function stringParam(params: Parameters, name: string): string | undefined {
  const v = params.get(name)
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new MalformedError(`signature parameter ${name} must be a string`)
  return v
}

/** An integer parameter of a signature, or undefined; throws `MalformedError` for another type. */
export function integerParam(params: Parameters, name: string): number | undefined {
  const v = params.get(name)
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new MalformedError(`signature parameter ${name} must be an integer`)
  }
  return v
}

/** True when `err` is a MeshsigError from base construction that a verifier reports as is. */
export function isBaseError(err: unknown): err is MeshsigError {
  return err instanceof MeshsigError && (err.code === 'MALFORMED' || err.code === 'SIGNATURE_INVALID')
}
