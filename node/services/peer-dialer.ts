/**
 * Dialling peers by multiaddr or by the seed form `ws://host:port` (resolved
 * through that node's /health, docs/protocol.md §9). Seed addresses given at
 * start are kept: when no connection to them is open, they are resolved and
 * dialled again, with the same exponential backoff (and jitter) and the same
 * one warning per outage as bootstrap multiaddrs (node/p2p/bootstrap-keeper.ts;
 * decision 0078): a seed that is down costs a `/health` request at most every
 * `BOOTSTRAP_MAX_BACKOFF_MS`, and one log line until it has been reached again.
 */
import { isMeshsigError, MeshsigError } from '../core/index.js'
import type { MeshP2P } from '../p2p/index.js'
import { resolveSeedAddress } from '../p2p/index.js'
import { BOOTSTRAP_MAX_BACKOFF_MS } from '../p2p/constants.js'

/** How often kept seeds are looked at (a connected one costs no request), and the first retry delay (ms). */
const WATCH_MS = 3_000

/** How a seed URL becomes dialable multiaddrs (default: `resolveSeedAddress`, a `/health` request). */
export type SeedResolver = (seed: string, options: { maxBytes?: number }) => Promise<string[]>

/** Options of a `PeerDialer`. */
export interface PeerDialerInit {
  /** Most bytes read of a seed's `/health` (node/limits.ts `remoteBodyBytes`). */
  readonly maxBodyBytes?: number
  /** Seed addresses (`ws://host:port`) kept connected from `start()` on. */
  readonly seeds?: readonly string[]
  /** Resolves a seed URL (tests pass a fake; default: `resolveSeedAddress`). */
  readonly resolve?: SeedResolver
}

/** One kept seed: the PeerId it reached, and its failures since it was last reached. */
interface Kept {
  peerId: string | undefined
  failures: number
  /** No attempt before this time (ms since the epoch). */
  nextAt: number
  dialing: boolean
}

/** Dials peers and keeps seed peers connected. */
export class PeerDialer {
  private readonly kept = new Map<string, Kept>()
  private readonly seeds: readonly string[]
  private readonly resolve: SeedResolver
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly p2p: () => MeshP2P,
    private readonly onError: (err: unknown) => void,
    private readonly init: PeerDialerInit = {},
  ) {
    this.seeds = init.seeds ?? []
    this.resolve = init.resolve ?? resolveSeedAddress
  }

  /** Startable: keep the configured seed peers connected. */
  start(): void {
    this.stopped = false
    for (const seed of this.seeds) this.keep(seed)
  }

  /** Dial `addr` once; returns the PeerIds reached. Throws `UNREACHABLE` when none answers. */
  async connect(addr: string): Promise<string[]> {
    const opts = this.init.maxBodyBytes === undefined ? {} : { maxBytes: this.init.maxBodyBytes }
    const addrs = addr.startsWith('/') ? [addr] : await this.resolve(addr, opts)
    const errors: string[] = []
    for (const a of addrs) {
      try {
        return [await this.p2p().dial(a)]
      } catch (err) {
        if (isMeshsigError(err) && err.code === 'INVALID_INPUT') throw err // not a multiaddr: 400, not 502
        errors.push(err instanceof Error ? err.message : String(err))
      }
    }
    throw new MeshsigError('UNREACHABLE', `could not reach ${addr}: ${errors.join('; ') || 'no addresses'}`)
  }

  /** Keep a seed peer connected: dial now and whenever it is not connected (with backoff while it fails). */
  keep(seed: string): void {
    if (this.stopped) return
    this.kept.set(seed, { peerId: undefined, failures: 0, nextAt: 0, dialing: false })
    void this.tick()
    this.timer ??= setInterval(() => void this.tick(), WATCH_MS)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    const connected = new Set(
      this.p2p()
        .peers()
        .map((p) => p.peerId),
    )
    const now = Date.now()
    const due = [...this.kept].filter(([, k]) => {
      if (k.peerId !== undefined && connected.has(k.peerId)) return false
      return !k.dialing && now >= k.nextAt
    })
    await Promise.all(due.map(([seed, k]) => this.attempt(seed, k)))
  }

  /** One try at a kept seed: reset on success; on failure back off, and warn only for the first of an outage. */
  private async attempt(seed: string, k: Kept): Promise<void> {
    k.dialing = true
    try {
      const [reached] = await this.connect(seed)
      k.peerId = reached
      k.failures = 0
    } catch (err) {
      k.failures += 1
      k.nextAt = Date.now() + backoff(k.failures)
      if (k.failures === 1) this.onError(err)
      const never = isMeshsigError(err) && err.code === 'INVALID_INPUT' // not a seed address: never dialable
      if (never && this.kept.get(seed) === k) this.kept.delete(seed)
    } finally {
      k.dialing = false
    }
  }

  /** Stop redialling; idempotent. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.kept.clear()
  }
}

/** The wait after `failures` failed tries in a row: doubling from `WATCH_MS` up to the bootstrap ceiling, ±20 %. */
function backoff(failures: number): number {
  const base = Math.min(BOOTSTRAP_MAX_BACKOFF_MS, WATCH_MS * 2 ** Math.min(failures - 1, 20))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}
