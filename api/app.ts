/**
 * The Express application of the REST API, built from a node's service
 * interface so it can be tested without `listen`. Order: metrics timer, Host
 * and Origin guards, rate limit, JSON body (size-limited), routes, 404, the
 * one error middleware.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import express, { type Express } from 'express'
import type { MeshNode } from '../node/mesh-node.js'
import type { Authority } from '../node/services/authority.js'
import { authorityOf, bearerOf, isOperatorToken, type CredentialResolver, type ProxyTrust } from './auth.js'
import { BodyBudget, bodyGate, type BodyBudgetLimits, type BodyClient } from './body-budget.js'
import { DashboardSessions } from './dashboard-pass.js'
import { ERROR_TABLE, MeshsigError } from '../node/core/errors.js'
import { errorBody, errorMiddleware, notFound } from './errors.js'
import { createFastPath } from './fast-path.js'
import { ApiMetrics } from './metrics.js'
import { resolveApiOptions, type ApiOptions, type ResolvedApiOptions } from './options.js'
import { rateLimiter, rateLimitKey } from './rate-limit.js'
import { readLaneMatcher } from './read-lane.js'
import { agentRoutes } from './routes/agent-routes.js'
import { auditRoutes } from './routes/audit-routes.js'
import { dashboardPassRoutes, dashboardSessionRoutes } from './routes/dashboard-routes.js'
import { meshRoutes } from './routes/mesh-routes.js'
import { messageRoutes } from './routes/message-routes.js'
import { healthRoutes, readRoutes } from './routes/read-routes.js'
import { uiRoutes } from './routes/ui-routes.js'
import { wellknownRoutes } from './routes/wellknown-routes.js'
import { hostGuard, jsonOnly } from './security.js'
import { SendDeadline } from './send-deadline.js'
import { upgradeGate, type UpgradeGate } from './upgrade-gate.js'
import { inlineVerifier, type SignatureVerifier } from './verifier.js'
import { createVerifyPool } from './verify-pool.js'

/** Every member of `T` is a method: the API calls a node, it never reaches into its service objects. */
type MethodsOnly<T extends { [K in keyof T]: (...args: never[]) => unknown }> = T

/**
 * The part of a MeshNode the API uses: its service interface, methods only
 * (node/node-reads.ts, node-audit-reads.ts, node-facade.ts). A fake for a
 * test implements these and nothing else.
 */
export type ApiNode = MethodsOnly<
  Pick<
    MeshNode,
    | 'info'
    | 'stats'
    | 'snapshot'
    | 'subscribe'
    | 'logger'
    | 'bounds'
    | 'agentRecord'
    | 'isRegistered'
    | 'listAgents'
    | 'countAgents'
    | 'discoverAgents'
    | 'registerAgent'
    | 'registerExternalAgent'
    | 'rotateAgent'
    | 'revokeAgent'
    | 'revoked'
    | 'revokedAfter'
    | 'revokedCount'
    | 'keyView'
    | 'duplicities'
    | 'duplicityPage'
    | 'sendMessage'
    | 'checkEnvelope'
    | 'verifyEnvelope'
    | 'signerKey'
    | 'listMessages'
    | 'connections'
    | 'handshake'
    | 'discoverNetwork'
    | 'connectPeer'
    | 'peers'
    | 'auditExport'
    | 'auditSize'
    | 'storedMessageBytes'
    | 'latestCheckpoint'
    | 'inclusionProof'
    | 'consistencyProof'
    | 'auditNdjson'
    | 'checkpointNote'
    | 'auditorView'
    | 'logVerifierKeys'
    | 'witnessBinding'
    | 'witnessAddCheckpoint'
    | 'witnessEvidence'
    | 'witnessEvidenceUnrecorded'
    | 'trustReport'
    | 'trustPage'
    | 'agentConnections'
    | 'agentTrust'
    | 'keyDirectory'
    | 'nodeCard'
    | 'agentCard'
    | 'agentCards'
    | 'checkpoint'
    | 'agentForCredential'
    | 'credentialHashById'
    | 'recordRefusal'
    | 'relayStats'
    | 'unauditedRefusals'
    | 'checkpointOnDemand'
    | 'history'
    | 'delivery'
    | 'undelivered'
  >
>

/** What every route module receives. */
export interface RouteContext {
  readonly node: ApiNode
  readonly opts: ResolvedApiOptions
  readonly verifier: SignatureVerifier
  readonly metrics: ApiMetrics
  /** Resolves an agent credential to its DID (docs/protocol.md §8). */
  readonly resolveCredential: CredentialResolver
  /** The proven caller of a request; throws `UNAUTHORIZED` for a bearer that proves nothing. */
  authority(req: IncomingMessage): Authority
}

/** An API app with its resolved options and a way to release what it holds. */
export interface Api {
  /** The Express application (every endpoint). */
  readonly app: Express
  /**
   * What the HTTP server runs: the fast path for the hot endpoints, else the Express app; every answer
   * under the send deadline (send-deadline.ts).
   */
  readonly handler: RequestListener
  readonly options: ResolvedApiOptions
  readonly metrics: ApiMetrics
  /** What a WebSocket upgrade passes besides Host and Origin: the same rate limiter, and its proof (ws-stream.ts). */
  readonly upgrades: UpgradeGate
  /** Tell the metrics how many WebSocket clients are connected. */
  countStreamClients(read: () => number): void
  /** Stop background work (verification workers, event subscription). */
  close(): Promise<void>
}

/** The metrics of the API, reading the node's counters (stream clients through `wsClients`). */
function apiMetrics(node: ApiNode, wsClients: () => number): ApiMetrics {
  return new ApiMetrics({
    peers: () => node.peers().length,
    agents: () => node.stats().agents,
    auditEntries: () => node.stats().auditEntries,
    wsClients,
    relayDropped: () => node.relayStats().dropped,
    unauditedRefusals: () => node.unauditedRefusals(),
    problems: () => node.logger().counts(),
    undelivered: () => node.undelivered(),
    unrecordedEvidence: () => node.witnessEvidenceUnrecorded(),
  })
}

/** What every route handler is given: the node, options, verifier, metrics and the caller's authority. */
function routeContext(node: ApiNode, opts: ResolvedApiOptions, metrics: ApiMetrics): RouteContext {
  const verifier = opts.verifyWorkers > 0 ? createVerifyPool(opts.verifyWorkers) : inlineVerifier
  const resolveCredential: CredentialResolver = (credential) => node.agentForCredential(credential)
  return {
    node,
    opts,
    verifier,
    metrics,
    resolveCredential,
    authority: (req) => authorityOf(req, opts, resolveCredential),
  }
}

/**
 * What the HTTP server runs: the fast path for the hot endpoints, else the Express app; a request with a body
 * only once the body gate took its charge (body-budget.ts; docs/api.md, "Request bodies").
 */
function handlerOf(
  app: Express,
  fast: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined,
  deadline: SendDeadline,
  gate: (req: IncomingMessage, res: ServerResponse) => boolean,
): RequestListener {
  return (req, res) => {
    // every answer: never sniffed as another type, never cached (the UI's pages and assets set their own caching)
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Cache-Control', 'no-store')
    deadline.watch(res)
    if (!originForm(req.url)) return refuseTarget(res)
    if (!gate(req, res)) return
    if (fast === undefined || !fast(req, res)) app(req, res)
  }
}

/**
 * True for a request target in origin form (a path, then perhaps a query),
 * the only form the API answers (docs/api.md). The router reads a path out
 * of others too (an absolute URL, a `#fragment`), while the rate limiter,
 * which must tell a registration by its path, read the raw target: a
 * credential holder registered from its own bucket that way (review 81, F3).
 */
function originForm(url: string | undefined): boolean {
  return url !== undefined && url.startsWith('/') && !url.startsWith('//') && !url.includes('#')
}

function refuseTarget(res: ServerResponse): void {
  const err = new MeshsigError('INVALID_INPUT', 'the request target must be a path (origin form), without a fragment')
  const text = JSON.stringify(errorBody(err))
  res.writeHead(ERROR_TABLE.INVALID_INPUT.http, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    Connection: 'close',
  })
  res.end(text)
}

/**
 * The gate of request bodies (body-budget.ts; docs/api.md, "Request bodies"). A body is charged to the rate
 * limiter's bucket, read before Express, so by the socket's address, never a forwarded one (decision 0090); the
 * operator (token, `trustLoopback`, the dashboard's session) may take the reserve.
 */
function bodyGateOf(
  opts: ResolvedApiOptions,
  limits: BodyBudgetLimits | undefined,
  who: {
    resolveCredential: CredentialResolver
    sessionOf: (req: IncomingMessage) => string | undefined
    readLane: (req: IncomingMessage) => boolean
  },
  metrics: ApiMetrics,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { resolveCredential, sessionOf, readLane } = who
  const clientOf = (req: IncomingMessage): BodyClient => {
    const bearer = bearerOf(req)
    const operator =
      bearer !== undefined
        ? isOperatorToken(opts, bearer)
        : sessionOf(req) !== undefined || authorityOf(req, opts, resolveCredential).kind === 'operator'
    return { key: rateLimitKey(req, opts, resolveCredential, sessionOf, readLane), operator }
  }
  return bodyGate(new BodyBudget(limits), opts.bodyLimit, clientOf, () => metrics.rateLimited())
}

/**
 * Logged at start when `trustProxy` covers loopback (docs/api.md, "Rate
 * limit"; decision 0090): every local user reaches 127.0.0.1 directly too.
 */
export const PROXY_ON_LOOPBACK_WARNING =
  'trustProxy covers loopback: any local user connecting to 127.0.0.1 can claim any client address in ' +
  'X-Forwarded-For (reads count per claimed address; registrations, and every audit entry naming a client, ' +
  'count the socket address)'

/** Build the API for `node`. Throws `INVALID_INPUT` for an unsafe combination of options. */
export function createApi(node: ApiNode, options: ApiOptions): Api {
  const opts = resolveApiOptions(options)
  let streamClients = (): number => 0
  const metrics = apiMetrics(node, () => streamClients())
  const unsubscribe = node.subscribe((e) => metrics.observe(e))
  const ctx = routeContext(node, opts, metrics)
  const { verifier, resolveCredential } = ctx
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.set('trust proxy', opts.trustProxy.length > 0 ? [...opts.trustProxy] : false)
  const trustProxy = app.get('trust proxy fn') as ProxyTrust // Express's compiled form, for upgrades too
  const apiLog = node.logger().child('api')
  if (trustProxy('127.0.0.1', 0) || trustProxy('::1', 0)) apiLog.warn(PROXY_ON_LOOPBACK_WARNING)
  app.use(metrics.middleware())
  app.use(hostGuard(opts))
  app.use(uiRoutes()) // dashboard and verifier pages: GET only, before the API rate limit
  const dashboard = new DashboardSessions()
  const sessionOf = (req: IncomingMessage): string | undefined => dashboard.sessionOf(req)
  const readLane = readLaneMatcher(opts.token) // the MCP server's reads: a bucket of their own (decision 0063)
  const limiter = rateLimiter(
    opts,
    (req) => rateLimitKey(req, opts, resolveCredential, sessionOf, readLane),
    () => metrics.rateLimited(),
  )
  const fast = options.fastPath === false ? undefined : createFastPath(ctx, limiter, (err) => reportInternal(err))
  app.use(healthRoutes(ctx)) // before the rate limit too (read-routes.ts)
  app.use(dashboardSessionRoutes(dashboard)) // the page's own lane: before the limit (dashboard-routes.ts)
  if (limiter) app.use(limiter)
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.render())
  })
  app.use(jsonOnly)
  app.use(express.json({ limit: opts.bodyLimit, strict: true }))
  app.use(wellknownRoutes(ctx))
  app.use(readRoutes(ctx), messageRoutes(ctx), agentRoutes(ctx), meshRoutes(ctx), auditRoutes(ctx))
  app.use(dashboardPassRoutes(ctx, dashboard))
  app.use(notFound)
  app.use(errorMiddleware(opts.bodyLimit, reportInternal))
  function reportInternal(err: unknown): void {
    apiLog.error('internal error answered 500', err)
  }
  const sendDeadline = new SendDeadline(() => node.bounds().http.sendStallMs)
  const gate = bodyGateOf(opts, options.bodyBudget, { resolveCredential, sessionOf, readLane }, metrics)
  return {
    app,
    handler: handlerOf(app, fast, sendDeadline, gate),
    options: opts,
    metrics,
    upgrades: upgradeGate(limiter, opts, sessionOf, trustProxy),
    countStreamClients: (read) => {
      streamClients = read
    },
    close: async () => {
      sendDeadline.stop()
      unsubscribe()
      await verifier.close()
    },
  }
}
