/**
 * The node's NDJSON audit export as it streams (`GET
 * /audit/export?format=ndjson`), for `meshsig audit --ndjson`, the summary
 * `meshsig audit` prints and MCP `meshsig_audit` (docs/audit.md). A server
 * that is not the node must not make the reader buffer without end nor hold
 * it for ever (decision 0055; review 92 F3): an error answer is read within
 * `SMALL_ANSWER_BYTES`, the answer must keep coming (`NDJSON_PROGRESS_BYTES`
 * in every `idleMs`, or its end), and a reader may set a deadline on the
 * whole answer (`totalMs`) or give it up by a signal.
 */
import { errorFrom, pinnedServer, SMALL_ANSWER_BYTES } from '../../api/client-http.js'
import { textWithin } from '../../api/client-errors.js'
import { READ_LANE_HEADER, readLaneOf } from '../../api/read-lane.js'
import { MeshsigError, isMeshsigError } from '../../node/core/errors.js'
import { apiClient, tokenFor } from '../api-client.js'
import type { CliContext } from '../context.js'

/** Most time an NDJSON answer may take to bring `NDJSON_PROGRESS_BYTES` more bytes (or end), ms. */
export const NDJSON_IDLE_MS = 30_000

/**
 * Bytes an NDJSON answer must bring in every `NDJSON_IDLE_MS`, or end: a floor
 * of about 2 KB/s. The node writes its export as fast as the socket takes it
 * (about 40 MB/s to a file, docs/benchmarks.md); a server that drips a byte
 * every few seconds, each putting off a plain idle timer, is given up.
 */
export const NDJSON_PROGRESS_BYTES = 64 * 1024

/** How an NDJSON answer is given up (`TIMEOUT`). */
export interface NdjsonDeadlines {
  /** Most time for `NDJSON_PROGRESS_BYTES` more bytes, or the end (default `NDJSON_IDLE_MS`). */
  readonly idleMs?: number
  /** Most time for the whole answer, from the request (default: none). */
  readonly totalMs?: number
  /** Gives the read up when it aborts (an MCP request its client cancelled). */
  readonly signal?: AbortSignal
}

type Why = 'idle' | 'total' | 'cancelled'

/** Aborts a fetch that stops making progress, runs past its total time, or is cancelled. */
class StreamDeadline {
  readonly #abort = new AbortController()
  #idle: NodeJS.Timeout | undefined
  #total: NodeJS.Timeout | undefined
  /** Bytes since the idle deadline was last put off. */
  #bytes = 0
  why: Why | undefined
  readonly #onCancel = (): void => this.#fire('cancelled')

  constructor(
    private readonly server: string,
    private readonly d: NdjsonDeadlines,
  ) {
    this.#armIdle()
    // unref: the fetch's socket keeps the process alive while it matters, not the deadlines
    if (d.totalMs !== undefined) this.#total = setTimeout(() => this.#fire('total'), d.totalMs).unref()
    if (d.signal?.aborted === true) this.#fire('cancelled')
    d.signal?.addEventListener('abort', this.#onCancel, { once: true })
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  #fire(why: Why): void {
    if (this.why !== undefined) return
    this.why = why
    this.#abort.abort()
  }

  #armIdle(): void {
    clearTimeout(this.#idle)
    this.#idle = setTimeout(() => this.#fire('idle'), this.d.idleMs ?? NDJSON_IDLE_MS).unref()
  }

  /** `n` more bytes came: past `NDJSON_PROGRESS_BYTES` since the last time, the idle deadline is put off. */
  progress(n: number): void {
    this.#bytes += n
    if (this.#bytes < NDJSON_PROGRESS_BYTES) return
    this.#bytes = 0
    this.#armIdle()
  }

  stop(): void {
    clearTimeout(this.#idle)
    clearTimeout(this.#total)
    this.d.signal?.removeEventListener('abort', this.#onCancel)
  }

  error(): MeshsigError {
    const { server } = this
    const idleMs = this.d.idleMs ?? NDJSON_IDLE_MS
    if (this.why === 'total') {
      const why = `the audit export of ${server} took longer than ${this.d.totalMs} ms (MESHSIG_AUDIT_DEADLINE)`
      return new MeshsigError('TIMEOUT', why, { server, timeoutMs: this.d.totalMs })
    }
    if (this.why === 'cancelled') return new MeshsigError('TIMEOUT', `the read of ${server} was cancelled`, { server })
    const why = `the meshsig node at ${server} sent less than ${NDJSON_PROGRESS_BYTES} bytes in ${idleMs} ms`
    return new MeshsigError('TIMEOUT', why, { server, timeoutMs: idleMs })
  }

  /** `body`, each chunk counted as progress; a deadline that fires is `TIMEOUT`. */
  async *watch(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body) {
        this.progress(chunk.length)
        yield chunk
      }
    } catch (err) {
      throw this.why !== undefined ? this.error() : err
    } finally {
      this.stop()
    }
  }
}

/**
 * The read-lane header of the MCP server's context (api/read-lane.ts): the
 * export is open to every client, so no token goes with it; the lane keeps
 * its read out of the bucket every anonymous loopback caller shares.
 */
function laneHeader(ctx: CliContext): Record<string, string> {
  const token = ctx.readLane === true ? tokenFor(ctx) : undefined
  return token !== undefined ? { [READ_LANE_HEADER]: readLaneOf(token) } : {}
}

/**
 * The error answer of the export: the node's own code (a size with no
 * checkpoint is NOT_FOUND, a bad one INVALID_INPUT), read within
 * `SMALL_ANSWER_BYTES` while the deadlines run (review 92 F3: an unbounded
 * read took 256 MiB in 2 s).
 */
async function exportError(res: Response, url: string, deadline: StreamDeadline): Promise<MeshsigError> {
  let text: string
  try {
    text = await textWithin(res, SMALL_ANSWER_BYTES, url)
  } catch (err) {
    if (isMeshsigError(err)) return err
    return deadline.why !== undefined ? deadline.error() : errorFrom(res.status, {}, url)
  } finally {
    deadline.stop()
  }
  let body: unknown = {}
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: the status alone
  }
  return errorFrom(res.status, body, url)
}

/**
 * The body of the node's NDJSON export at `size` (default: its current
 * checkpoint's), as it streams, given up (`TIMEOUT`) as `deadlines` say.
 * With a token at hand the server proves first that it is the node
 * (`NODE_UNPROVEN` otherwise, decision 0055); `localhost` is 127.0.0.1, as
 * for every client.
 */
export async function fetchNdjson(
  ctx: CliContext,
  size?: number,
  deadlines: NdjsonDeadlines = {},
): Promise<AsyncIterable<Uint8Array>> {
  await apiClient(ctx).proveNode()
  const url = new URL('/audit/export', pinnedServer(ctx.server))
  url.searchParams.set('format', 'ndjson')
  if (size !== undefined) url.searchParams.set('size', String(size))
  const deadline = new StreamDeadline(ctx.server, deadlines)
  const headers = { accept: 'application/x-ndjson', ...laneHeader(ctx) }
  let res: Response
  try {
    res = await fetch(url, { headers, signal: deadline.signal })
  } catch (err) {
    deadline.stop()
    if (deadline.why !== undefined) throw deadline.error()
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    const message = `no meshsig node answers at ${ctx.server} (${why}); is it running? (meshsig start)`
    throw new MeshsigError('UNREACHABLE', message, { server: ctx.server })
  }
  if (!res.ok || res.body === null) throw await exportError(res, url.toString(), deadline)
  return deadline.watch(res.body as unknown as AsyncIterable<Uint8Array>)
}
