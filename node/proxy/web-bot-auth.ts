/**
 * Web Bot Auth (docs/interop.md §1): the signatures the proxy makes in its
 * opt-in WBA mode and the signed key directory, after
 * draft-ietf-webbotauth-httpsig-protocol-00 (the text of
 * draft-meunier-webbotauth-httpsig-protocol-02). Pure: time, nonce and keys
 * are arguments.
 *
 * A request signature: label `sig1`, `tag="web-bot-auth"`, `keyid` = the RFC
 * 7638 thumbprint of the signer's current key, `created`, `expires`, a 64-byte
 * nonce, covering `@authority @method @path` (`@query` when there is one),
 * `content-digest`, `content-type` when there is one (as the meshsig
 * signature: docs/proxy.md) and `Signature-Agent` (a dictionary keyed by the label
 * whose member is the https origin of the key directory). The directory
 * response carries one signature per current key (`tag` =
 * `http-message-signatures-directory`, covering `"@authority";req` and
 * `content-digest`).
 */
import { serializeDictionary, serializeInnerList, serializeItem, type BareItem, type Item } from 'structured-headers'
import {
  componentValue,
  contentDigest,
  headerValue,
  jwkThumbprint,
  splitTarget,
  toB64,
  utf8,
  withoutSignatureHeaders,
  ed25519Jwk,
  type HttpRequestLike,
  type HttpSigner,
  type Ed25519PublicJwk,
} from '../core/index.js'

/** The `tag` of Web Bot Auth request signatures. */
export const WBA_TAG = 'web-bot-auth'
/** The `tag` of key directory response signatures. */
export const WBA_DIRECTORY_TAG = 'http-message-signatures-directory'
/** The label the proxy signs under, and the key of its `Signature-Agent` member. */
export const WBA_LABEL = 'sig1'
/** Where the key directory is served. */
export const WBA_DIRECTORY_PATH = '/.well-known/http-message-signatures-directory'
/** The directory's media type. */
export const WBA_DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json'
/** Default lifetime of a WBA request signature (the draft recommends at most 24 h; short is better). */
export const WBA_DEFAULT_LIFETIME_MS = 60_000
/** Bytes of randomness in a WBA nonce (what Cloudflare's reference library makes). */
export const WBA_NONCE_BYTES = 64

/** A key the WBA signer uses: the signer and its current public key (raw). */
export interface WbaKey {
  readonly signer: HttpSigner
  readonly publicKey: Uint8Array
}

/** How `signWebBotAuth` signs. */
export interface WbaSignOptions {
  readonly key: WbaKey
  /** The https origin of the key directory (`https://node.example`). */
  readonly agentOrigin: string
  /** Now, ms since the epoch. */
  readonly now: number
  /** b64 of `WBA_NONCE_BYTES` random bytes. */
  readonly nonce: string
  /** `expires` - `created` (ms); default 60 s. */
  readonly lifetimeMs?: number
  /** Cover the `Signature-Agent` member (`;key="sig1"`) instead of the whole field (default false). */
  readonly memberKey?: boolean
}

/** The headers a WBA signature adds (lowercase names). */
export interface WbaHeaders {
  readonly 'content-digest': string
  readonly 'signature-agent': string
  readonly 'signature-input': string
  readonly signature: string
}

/** A covered component: a name, with the `key` of a dictionary member or the `req` flag. */
type Component = readonly [string, ReadonlyMap<string, BareItem>]

function plain(name: string): Component {
  return [name, new Map()]
}

/** The `Signature-Agent` dictionary member value for the label: an sf-string holding the origin. */
export function signatureAgentHeader(origin: string, label = WBA_LABEL): string {
  return serializeDictionary(new Map([[label, [origin, new Map()] as Item]]))
}

/** RFC 9421 §2.5 base for components that may carry `;key` (request) or `;req` (response). */
function base(components: readonly Component[], value: (c: Component) => string, params: Map<string, BareItem>) {
  const lines = components.map((c) => `${serializeItem([c[0], new Map(c[1])])}: ${value(c)}`)
  const input = serializeInnerList([components.map((c) => [c[0], new Map(c[1])] as Item), params])
  lines.push(`"@signature-params": ${input}`)
  return { text: lines.join('\n'), input }
}

/**
 * The WBA components of a request: the draft's required and narrowing ones,
 * `content-type` when the request has one (RFC 9421 lets a signer cover more
 * than the draft's minimum; a Content-Type changed after signing would make
 * the gateway read the bytes the digest covers as another type: attack review
 * 93), and `Signature-Agent`: the whole field by default (`"signature-agent"`,
 * the one form today's released verifiers and RFC 9421 agree on,
 * docs/interop.md), or its member as the draft writes it
 * (`"signature-agent";key="sig1"`).
 */
export function wbaComponents(request: HttpRequestLike, memberKey = false, label = WBA_LABEL): Component[] {
  const components = [plain('@authority'), plain('@method'), plain('@path')]
  if (splitTarget(request.path).query !== '?') components.push(plain('@query'))
  components.push(plain('content-digest'))
  if (headerValue(request.headers, 'content-type') !== undefined) components.push(plain('content-type'))
  components.push(['signature-agent', new Map(memberKey ? [['key', label]] : [])])
  return components
}

/**
 * Sign `request` as Web Bot Auth: computes `Content-Digest` and the
 * `Signature-Agent` member (any the request had are replaced) and returns the
 * four headers to set.
 */
export function signWebBotAuth(request: HttpRequestLike, o: WbaSignOptions): WbaHeaders {
  const agentMember = serializeItem([o.agentOrigin, new Map()])
  const headers = {
    ...withoutSignatureHeaders(request.headers),
    'content-digest': contentDigest(request.body),
    'signature-agent': signatureAgentHeader(o.agentOrigin),
  }
  const signed: HttpRequestLike = { ...request, headers }
  const created = Math.floor(o.now / 1000)
  const params = new Map<string, BareItem>([
    ['created', created],
    ['keyid', jwkThumbprint(o.key.publicKey)],
    ['alg', 'ed25519'],
    ['expires', created + Math.ceil((o.lifetimeMs ?? WBA_DEFAULT_LIFETIME_MS) / 1000)],
    ['nonce', o.nonce],
    ['tag', WBA_TAG],
  ])
  const value = (c: Component): string => (c[1].has('key') ? agentMember : componentValue(signed, c[0]))
  const { text, input } = base(wbaComponents(signed, o.memberKey === true), value, params)
  return {
    'content-digest': headers['content-digest'],
    'signature-agent': headers['signature-agent'],
    'signature-input': `${WBA_LABEL}=${input}`,
    signature: serializeDictionary(new Map([[WBA_LABEL, [o.key.signer.sign(utf8(text)), new Map()] as Item]])),
  }
}

/** One key of the directory, with its validity (ms since the epoch). */
export interface WbaDirectoryKey {
  readonly publicKey: Uint8Array
  /** Not before: when the key was published (or became current). */
  readonly nbf: number
  /** Until when this copy of the directory vouches for it. */
  readonly exp: number
}

/** A JWK of the directory (draft §"Directory Format"): `kid` is the thumbprint. */
export interface WbaJwk extends Ed25519PublicJwk {
  readonly kid: string
  readonly use: 'sig'
  readonly nbf: number
  readonly exp: number
}

/** The directory's JWKS; `nbf` / `exp` in seconds (RFC 7519 NumericDate). */
export function wbaDirectory(keys: readonly WbaDirectoryKey[]): { keys: WbaJwk[] } {
  return {
    keys: keys.map((k) => ({
      ...ed25519Jwk(k.publicKey),
      kid: jwkThumbprint(k.publicKey),
      use: 'sig',
      nbf: Math.floor(k.nbf / 1000),
      exp: Math.floor(k.exp / 1000),
    })),
  }
}

/** How the directory response is signed. */
export interface DirectorySignOptions {
  /** `@authority` of the request that fetched the directory (its Host, lowercased). */
  readonly authority: string
  /** The exact response body. */
  readonly body: Uint8Array | string
  /** One signer per current key (the first is labelled `binding`, then `binding1`, …). */
  readonly keys: readonly WbaKey[]
  /** `created`, ms. */
  readonly now: number
  /** `expires` - `created`, ms. */
  readonly lifetimeMs: number
}

/**
 * The `Content-Digest`, `Signature-Input` and `Signature` of a directory
 * response (draft appendix "Possession Proof on the Directory Response").
 */
export function signDirectoryResponse(o: DirectorySignOptions): Record<string, string> {
  const digest = contentDigest(o.body)
  const components: Component[] = [['@authority', new Map([['req', true]])], plain('content-digest')]
  const value = (c: Component): string => (c[0] === '@authority' ? o.authority.trim().toLowerCase() : digest)
  const inputs: string[] = []
  const sigs = new Map<string, Item>()
  o.keys.forEach((key, i) => {
    const label = i === 0 ? 'binding' : `binding${i}`
    const created = Math.floor(o.now / 1000)
    const params = new Map<string, BareItem>([
      ['created', created],
      ['expires', created + Math.ceil(o.lifetimeMs / 1000)],
      ['keyid', jwkThumbprint(key.publicKey)],
      ['tag', WBA_DIRECTORY_TAG],
    ])
    const { text, input } = base(components, value, params)
    inputs.push(`${label}=${input}`)
    sigs.set(label, [key.signer.sign(utf8(text)), new Map()])
  })
  if (inputs.length === 0) return { 'content-digest': digest }
  return { 'content-digest': digest, 'signature-input': inputs.join(', '), signature: serializeDictionary(sigs) }
}

/** b64 of `WBA_NONCE_BYTES` random bytes from `random`. */
export function wbaNonce(random: (n: number) => Uint8Array): string {
  return toB64(random(WBA_NONCE_BYTES))
}
