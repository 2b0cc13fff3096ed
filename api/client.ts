/**
 * The typed HTTP client of a meshsig node (SDK). One method per endpoint of
 * docs/api.md; failures are `MeshsigError`s with the node's error code, and
 * `UNREACHABLE` when no node answers. Helpers build bring-your-own-key
 * registrations and pre-signed messages locally, so private keys never
 * travel.
 *
 * ```ts
 * import { MeshsigClient } from 'meshsig'
 * const node = new MeshsigClient({ server: 'http://localhost:4888' })
 * const { identity } = await node.register({ name: 'my-agent', capabilities: [{ type: 'analysis' }] })
 * ```
 */
import { randomBytes } from 'node:crypto'
import {
  ClientHttp,
  openStream,
  queryString,
  DEFAULT_LIST_BYTES,
  SMALL_ANSWER_BYTES,
  type MeshsigClientOptions as HttpOptions,
  type WebSocketClass,
  type WebSocketLike,
} from './client-http.js'
import { checkedVerification, provenKeyView, type VerifyInput } from './client-checks.js'
import { createInception, createMessage, createRegistration, type Capability } from '../node/core/factory.js'
import { MeshsigError } from '../node/core/errors.js'
import type { KeyPair } from '../node/core/keys.js'
import type { ConsistencyProofDoc, InclusionProofDoc } from '../node/audit/audit-service.js'
import type { DuplicityView } from '../node/services/duplicity.js'
import type { KeyView } from '../node/services/key-view.js'
import type { AuditReport } from '../node/services/report-service.js'
import type {
  ApiAgentDetail,
  ApiAgentTrust,
  ApiTrustPage,
  ApiAgentList,
  ApiCheckpoint,
  ApiCheckpointSigned,
  ApiConnected,
  ApiDashboardPass,
  ApiConnectionPage,
  ApiDuplicityList,
  ApiMessagePage,
  ApiPeerList,
  ApiRevokedList,
  ApiHandshake,
  ApiHealth,
  ApiMessageVerification,
  ApiNetworkDiscovery,
  ApiRegistered,
  ApiRegisterInput,
  ApiRevoked,
  ApiRotated,
  ApiSent,
  ApiSnapshot,
  ApiStreamEvent,
  ApiVerification,
  NodeStats,
} from './types.js'

export type * from './types.js'
export type { AuditReport, DuplicityView, KeyView }
export { DEFAULT_LIST_BYTES, DEFAULT_MESHSIG_SERVER, noConnection, SMALL_ANSWER_BYTES } from './client-http.js'

/** How to reach a node, and how much of an answer to read. */
export interface MeshsigClientOptions extends HttpOptions {
  /**
   * Most bytes of a list answer (agents, messages, connections, the audit
   * export, …), past which it is `PEER_ERROR` (default `DEFAULT_LIST_BYTES`,
   * the longest answer the runtime could parse). Answers of a fixed shape are
   * always read within `SMALL_ANSWER_BYTES`: a server that is not the node
   * cannot make the client buffer without end.
   */
  readonly maxListBytes?: number
}

/** Filters of `agents()`. */
export interface AgentQuery {
  readonly capability?: string
  readonly origin?: 'local' | 'remote'
  readonly status?: 'active' | 'revoked'
  readonly limit?: number
  /** With `limit`: the page after this one (the `next` of the page before). */
  readonly cursor?: string
}

/** Filters of `messages()`. */
export interface MessageListQuery {
  readonly did?: string
  readonly limit?: number
  /** Only messages with `seq` below this (page backwards). */
  readonly before?: number
}

/** One of the three ways to send a message (docs/protocol.md §8). */
export type SendRequest =
  | { readonly envelope: unknown }
  | { readonly fromDid: string; readonly toDid: string | null; readonly message: string; readonly privateKey?: string }

/** One event of the live stream: the snapshot first, then node events typed by name. */
export type StreamEvent = ApiStreamEvent

/** Most rows of a `GET /connections` or `GET /duplicity` page (node/limits.ts `LIST_PAGE_MAX`). */
const LARGEST_PAGE = 1000

/** A client of one meshsig node. */
export class MeshsigClient {
  /** Base URL without a trailing slash. */
  readonly server: string
  private readonly http: ClientHttp
  private readonly maxListBytes: number

  constructor(opts: MeshsigClientOptions = {}) {
    this.http = new ClientHttp(opts)
    this.server = this.http.server
    this.maxListBytes = opts.maxListBytes ?? DEFAULT_LIST_BYTES
  }

  /** An answer of a fixed shape, read within `SMALL_ANSWER_BYTES`. */
  private request<T>(method: 'GET' | 'POST', path: string, body?: unknown, raw = false): Promise<T> {
    return this.http.request<T>(method, path, body, raw, SMALL_ANSWER_BYTES)
  }

  /** A list (or an export), read within `maxListBytes`. */
  private list<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return this.http.request<T>(method, path, body, false, this.maxListBytes)
  }

  /**
   * Whether the server proved it is the node: true once it proved it holds
   * the token (`proveToken`); false when this client proves nothing (no
   * token, or `proveToken` not set: its answers are then the server's word).
   * Rejects with `NODE_UNPROVEN` when a server answered without the proof
   * (decision 0055), with `UNREACHABLE` or `TIMEOUT` when none answered.
   */
  proveNode(): Promise<boolean> {
    return this.http.provenNode()
  }

  /** `GET /health`: identity, addresses, uptime, version. */
  health(): Promise<ApiHealth> {
    return this.request('GET', '/health')
  }

  /** `GET /stats`. */
  stats(): Promise<NodeStats> {
    return this.request('GET', '/stats')
  }

  /** `GET /snapshot`. */
  snapshot(): Promise<ApiSnapshot> {
    return this.list('GET', '/snapshot')
  }

  /** `GET /agents`. */
  agents(q: AgentQuery = {}): Promise<ApiAgentList> {
    return this.list('GET', '/agents' + queryString({ ...q }))
  }

  /** `GET /agents/:did`, with the conflicting key events recorded for it (`duplicity`). */
  agent(did: string): Promise<ApiAgentDetail> {
    return this.request('GET', `/agents/${encodeURIComponent(did)}`)
  }

  /**
   * `GET /keys/:did`: the DID's current key, key seq, revocation and duplicity, the key checked here
   * (client-checks.ts `provenKeyView`): the one the answer's signed key events prove from the DID, else
   * `KEL_INVALID`. A gateway's key lookup (docs/proxy.md); the revocation claimed is the server's word.
   */
  async keyState(did: string): Promise<KeyView> {
    return provenKeyView(did, await this.request<KeyView>('GET', `/keys/${encodeURIComponent(did)}`), this.server)
  }

  /**
   * `GET /duplicity`: every conflicting key event the node refused, newest first, read a page at a time
   * following `next` (docs/api.md `GET /duplicity`); `duplicityPage` reads one.
   */
  async duplicity(): Promise<ApiDuplicityList> {
    const all: ApiDuplicityList['duplicity'][number][] = []
    let page = await this.duplicityPage({ limit: LARGEST_PAGE })
    all.push(...page.duplicity)
    while (page.next !== null && page.duplicity.length > 0) {
      page = await this.duplicityPage({ limit: LARGEST_PAGE, cursor: page.next })
      all.push(...page.duplicity)
    }
    return { duplicity: all, total: page.total, next: null }
  }

  /** `GET /duplicity?limit&cursor`: one page (the node's default size without `limit`), `next` the cursor of the rest. */
  duplicityPage(q: { readonly limit?: number; readonly cursor?: string } = {}): Promise<ApiDuplicityList> {
    return this.list('GET', '/duplicity' + queryString({ ...q }))
  }

  /** `GET /revoked`: every revoked DID, or one page of `limit` (from `cursor` on). */
  revoked(q: { readonly limit?: number; readonly cursor?: string } = {}): Promise<ApiRevokedList> {
    return this.list('GET', '/revoked' + queryString({ ...q }))
  }

  /**
   * `GET /connections`: one page, newest first (the node's default size without `limit`); pass the answer's
   * `next` as `cursor` for the page after it (docs/api.md `GET /connections`).
   */
  connections(limit?: number, cursor?: string): Promise<ApiConnectionPage> {
    return this.list('GET', '/connections' + queryString({ limit, cursor }))
  }

  /** `GET /messages`. */
  messages(q: MessageListQuery = {}): Promise<ApiMessagePage> {
    return this.list('GET', '/messages' + queryString({ ...q }))
  }

  /** `GET /peers`. */
  peers(): Promise<ApiPeerList> {
    return this.list('GET', '/peers')
  }

  /** `GET /audit/export`: everything the node holds, nothing cut short. */
  auditExport(size?: number): Promise<AuditReport> {
    return this.list('GET', size === undefined ? '/audit/export' : `/audit/export?size=${size}`)
  }

  /** `GET /audit/checkpoint`: the latest signed checkpoint (null before the first), the log's size and the signed note. */
  auditCheckpoint(): Promise<ApiCheckpoint> {
    return this.request('GET', '/audit/checkpoint')
  }

  /** `POST /audit/checkpoint` (operator): sign a checkpoint of the whole log now; the node gossips it. */
  checkpoint(): Promise<ApiCheckpointSigned> {
    return this.request('POST', '/audit/checkpoint')
  }

  /** `GET /audit/proof/:index`: RFC 9162 inclusion proof (default: in the current checkpoint's tree). */
  auditProof(index: number, size?: number): Promise<InclusionProofDoc> {
    return this.request('GET', `/audit/proof/${index}` + queryString({ size }))
  }

  /** `GET /audit/consistency`: RFC 9162 consistency proof from `first` to `second` entries (default: current). */
  auditConsistency(first: number, second?: number): Promise<ConsistencyProofDoc> {
    return this.request('GET', '/audit/consistency' + queryString({ first, second }))
  }

  /**
   * `GET /trust`: one page of the trust scores (agents, delivering peers, connections) with the formula; pass
   * its `next` as `cursor` for the following page (decision 0081).
   */
  trust(q: { readonly limit?: number; readonly cursor?: string } = {}): Promise<ApiTrustPage> {
    return this.list('GET', '/trust' + queryString({ ...q }))
  }

  /** `GET /trust/:did`: one agent's trust and a page of the connections it is part of (`next`: the following). */
  agentTrust(did: string, q: { readonly limit?: number; readonly cursor?: string } = {}): Promise<ApiAgentTrust> {
    return this.list('GET', `/trust/${encodeURIComponent(did)}` + queryString({ ...q }))
  }

  /** `GET /metrics` (Prometheus text). */
  metrics(): Promise<string> {
    return this.request('GET', '/metrics', undefined, true)
  }

  /**
   * `POST /verify`: a plain signature under a DID (current key), did:key or b64 public key. A key the
   * caller names is checked here too (`valid` only when both agree: `checkedVerification`); for a did:msig
   * `valid` is the server's word (check it with `keyState` and the SDK's `verify` where that matters).
   */
  async verify(input: VerifyInput): Promise<ApiVerification> {
    return checkedVerification(input, await this.request<ApiVerification>('POST', '/verify', input))
  }

  /** `POST /agents/register`: the node makes and keeps the keys; the private key comes back once. */
  register(input: ApiRegisterInput): Promise<ApiRegistered> {
    return this.request('POST', '/agents/register', input)
  }

  /** `POST /agents/register` with your own key: signs the icp and reg here; the private key never leaves. */
  async registerWithKey(key: KeyPair, input: ApiRegisterInput, nextKey?: KeyPair | Uint8Array): Promise<ApiRegistered> {
    const node = await this.health()
    const now = Date.now()
    const icp = createInception(key, now, nextKey ?? null)
    const capabilities = [...(input.capabilities ?? [])] as Capability[]
    const reg = createRegistration(
      { did: icp.did, name: input.name, capabilities, controller: node.did, peerId: node.peerId, ts: now },
      key,
    )
    return this.request('POST', '/agents/register', {
      name: input.name,
      publicKey: icp.key,
      capabilities,
      proof: { icp, reg },
    })
  }

  /**
   * `POST /agents/rotate-key`: a signed rot envelope, with `registration` (the agent's registration signed by
   * the new key, stored right after it: without one, nodes that meet the agent after the rotation cannot check
   * its controller's revocations, decision 0070); for a custodied agent a rotation request signed by its
   * current key (`keyProof`: `createRotationRequest`, the key itself stays here) or `{did}` alone; or the
   * current private key.
   */
  rotateKey(input: {
    did?: string
    envelope?: unknown
    registration?: unknown
    keyProof?: unknown
    currentPrivateKey?: string
    nextPrivateKey?: string
  }): Promise<ApiRotated> {
    return this.request('POST', '/agents/rotate-key', input)
  }

  /** `POST /agents/revoke`: final. A signed rev envelope, the private key, or `{did}` for an agent this node hosts. */
  revoke(input: { did?: string; reason?: string; envelope?: unknown; privateKey?: string }): Promise<ApiRevoked> {
    return this.request('POST', '/agents/revoke', input)
  }

  /** `POST /discover`: local agents by capability. */
  discover(q: { capability?: string; minConfidence?: number; limit?: number } = {}): Promise<ApiAgentList> {
    return this.list('POST', '/discover', q)
  }

  /** `POST /discover/network`: local and remote (DHT) agents by capability. */
  discoverNetwork(q: { capability: string; minConfidence?: number; limit?: number }): Promise<ApiNetworkDiscovery> {
    return this.list('POST', '/discover/network', q)
  }

  /** `POST /messages/send` in any of the three ways. */
  send(input: SendRequest): Promise<ApiSent> {
    return this.request('POST', '/messages/send', input)
  }

  /** Sign a message here with `key` and send the envelope: the private key never leaves this process. */
  sendSigned(key: KeyPair, input: { from: string; to: string | null; message: string }): Promise<ApiSent> {
    const envelope = createMessage(
      { from: input.from, to: input.to, body: input.message, ts: Date.now(), nonce: new Uint8Array(randomBytes(16)) },
      key,
    )
    return this.send({ envelope })
  }

  /** `POST /messages/verify`: a plain signature by a DID, or an envelope (checked, not stored). */
  verifyMessage(
    input: { did: string; message: string; signature: string } | { envelope: unknown },
  ): Promise<ApiMessageVerification> {
    return this.request('POST', '/messages/verify', input)
  }

  /** `POST /handshake`: mutual challenge-response between two agents. */
  handshake(input: { fromDid: string; toDid: string; privateKey?: string }): Promise<ApiHandshake> {
    return this.request('POST', '/handshake', input)
  }

  /** `POST /dashboard/pass` (operator): a one-time pass that gives the dashboard a lane of its own (`#pass=`). */
  dashboardPass(): Promise<ApiDashboardPass> {
    return this.request('POST', '/dashboard/pass')
  }

  /** `POST /peers/connect`: a multiaddr with /p2p/, or a seed address ws://host:port. */
  connectPeer(address: string): Promise<ApiConnected> {
    return this.request('POST', '/peers/connect', { address })
  }

  /**
   * Listen to the live event stream (`snapshot` first), over the runtime's
   * WebSocket, or the `ws` package's where there is none (Node 20). With a
   * token (sent as for every request: proven first when `proveToken`), the
   * `ws` package's, which can send it: the upgrade then counts against the
   * token's own rate-limit bucket and, for the operator token, may take a
   * stream slot kept for it (docs/api.md, "WebSocket event stream"). A server
   * that does not prove it holds the token gets no upgrade: `onError` with
   * `NODE_UNPROVEN`. Returns a function that closes the stream.
   */
  subscribe(onEvent: (event: StreamEvent) => void, onError?: (err: Error) => void): () => void {
    let ws: WebSocketLike | undefined
    let closed = false
    const runtime = (globalThis as { WebSocket?: WebSocketClass }).WebSocket
    const failed = (err: unknown): void => onError?.(err instanceof Error ? err : new Error(String(err)))
    void this.http.bearer().then((bearer) => {
      if (closed) return
      ws = openStream(this.server.replace(/^http/, 'ws') + '/', bearer, runtime)
      ws.onmessage = (e) => {
        try {
          onEvent(JSON.parse(String(e.data)) as StreamEvent)
        } catch (err) {
          onError?.(err as Error)
        }
      }
      ws.onerror = () => onError?.(new MeshsigError('UNREACHABLE', `event stream of ${this.server} failed`))
    }, failed)
    return () => {
      closed = true
      ws?.close()
    }
  }
}
