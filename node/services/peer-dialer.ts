/**
 * Dialling peers by multiaddr or by the seed form `ws://host:port` (resolved
 * through that node's /health, docs/protocol.md §9). Seed addresses given at
 * start are kept: when no connection to them is open, they are resolved and
 * dialled again, with the same exponential backoff (and jitter) and the same
 * one warning per outage as bootstrap multiaddrs (node/p2p/bootstrap-keeper.ts;
 * decision 0078): a seed costs a `/health` request at most every
 * `BOOTSTRAP_MAX_BACKOFF_MS`, and one log line until it has been reached again.
 * A dial that succeeds resets the backoff only once the connection has stayed
 * up for `STABLE_MS`, so a seed that accepts and drops at once backs off too.
 * Nothing a seed answers drops it from the kept set: only a seed that is no
 * address at all is refused, by `keep` (review 107 M1, L1, L5). A connected
 * seed is asked again once every `STABLE_MS`: what answered for it may have
 * named another peer this node was connected to anyway (review 110).
 */
import { isMeshsigError, MeshsigError } from '../core/index.js'
import type { MeshP2P } from '../p2p/index.js'
import { resolveSeedAddress } from '../p2p/index.js'
import { BOOTSTRAP_MAX_BACKOFF_MS, MAX_SEED_ADDRS } from '../p2p/constants.js'
import { peerAddressProblem } from '../p2p/peer-address.js'

/** How often kept seeds are looked at, and the first retry delay (ms). */
const WATCH_MS = 3_000
/** How long a seed's connection must stay up before its backoff starts again from `WATCH_MS` (ms). */
const STABLE_MS = BOOTSTRAP_MAX_BACKOFF_MS

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

/** One kept seed: the PeerId it reached, and its tries since it last stayed connected. */
interface Kept {
  peerId: string | undefined
  /** Tries (failed, or connections that did not last `STABLE_MS`) since it last stayed connected. */
  failures: number
  /** No attempt before this time (ms since the epoch). */
  nextAt: number
  /** When the last dial succeeded (ms since the epoch). */
  reachedAt: number
  /** The current outage was already warned about. */
  warned: boolean
  /** The last try reached the seed. */
  lastOk: boolean
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

  /**
   * Dial `addr` once; returns the PeerIds reached. Throws `INVALID_INPUT` when
   * `addr` is no address, `UNREACHABLE` when none answers. A seed's addresses
   * are deduplicated, at most `MAX_SEED_ADDRS`, and never this node's own.
   */
  async connect(addr: string): Promise<string[]> {
    const given = addr.startsWith('/')
    const addrs = given ? [addr] : await this.seedAddresses(addr)
    const errors: string[] = []
    for (const a of addrs) {
      try {
        return [await this.p2p().dial(a)]
      } catch (err) {
        // a bad multiaddr the caller gave: 400, not 502; one a seed listed is the seed's failure
        if (given && isMeshsigError(err) && err.code === 'INVALID_INPUT') throw err
        errors.push(err instanceof Error ? err.message : String(err))
      }
    }
    throw new MeshsigError('UNREACHABLE', `could not reach ${addr}: ${errors.join('; ') || 'no addresses'}`)
  }

  /** A seed's multiaddrs to dial: deduplicated, capped, without this node's own PeerId (review 107 M1, L1). */
  private async seedAddresses(seed: string): Promise<string[]> {
    const opts = this.init.maxBodyBytes === undefined ? {} : { maxBytes: this.init.maxBodyBytes }
    const self = this.p2p().peerId as string | undefined
    const all = [...new Set(await this.resolve(seed, opts))]
    const addrs = all.filter((a) => self === undefined || !a.endsWith(`/p2p/${self}`)).slice(0, MAX_SEED_ADDRS)
    if (addrs.length === 0 && all.length > 0) {
      throw new MeshsigError('PEER_ERROR', `seed ${seed.slice(0, 120)} answered with this node's own PeerId`)
    }
    return addrs
  }

  /**
   * Keep a seed peer connected: dial now and whenever it is not connected (with
   * backoff while it fails). A seed that is no address is warned about and not kept.
   */
  keep(seed: string): void {
    if (this.stopped) return
    const problem = peerAddressProblem(seed)
    if (problem !== undefined) {
      this.onError(new MeshsigError('INVALID_INPUT', `seed ${seed.slice(0, 120)} is ${problem}`))
      return
    }
    this.kept.set(seed, {
      peerId: undefined,
      failures: 0,
      nextAt: 0,
      reachedAt: 0,
      warned: false,
      lastOk: false,
      dialing: false,
    })
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
      if (k.peerId !== undefined && connected.has(k.peerId)) {
        if (now - k.reachedAt < STABLE_MS) return false
        if (k.lastOk) Object.assign(k, { failures: 0, warned: false }) // it stayed up since the seed last answered
        // asked again after each stable period: an answer naming some other connected peer (libp2p's dial hands
        // back the existing connection) must not stand for the seed for good (review 110)
        return !k.dialing && now >= k.nextAt
      }
      return !k.dialing && now >= k.nextAt
    })
    await Promise.all(due.map(([seed, k]) => this.attempt(seed, k)))
  }

  /**
   * One try at a kept seed. Every try, failed or not, sets the next wait (the
   * backoff restarts only once a connection stays up, in `tick`); only the
   * first failure of an outage is warned about. Nothing here drops the seed.
   */
  private async attempt(seed: string, k: Kept): Promise<void> {
    k.dialing = true
    k.failures += 1
    try {
      const [reached] = await this.connect(seed)
      Object.assign(k, { peerId: reached, reachedAt: Date.now(), lastOk: true })
    } catch (err) {
      k.lastOk = false
      if (!k.warned) this.onError(err)
      k.warned = true
    } finally {
      // while its peer stays connected, a seed is asked at most once a stable period, whatever it answers
      // (review 111: one good answer between failures had reset the short backoff, ~260 requests an hour)
      const up =
        k.peerId !== undefined &&
        this.p2p()
          .peers()
          .some((p) => p.peerId === k.peerId)
      k.nextAt = Date.now() + (up ? Math.max(STABLE_MS, backoff(k.failures)) : backoff(k.failures))
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
