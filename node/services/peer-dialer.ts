/**
 * Dialling peers by multiaddr or by the seed form `ws://host:port` (resolved
 * through that node's /health). Seed addresses given at start are kept: when
 * no connection to them is open, they are resolved and dialled again.
 */
import { isMeshsigError, MeshsigError } from '../core/index.js'
import type { MeshP2P } from '../p2p/index.js'
import { resolveSeedAddress } from '../p2p/index.js'

const RETRY_MS = 3_000

/** Dials peers and keeps seed peers connected. */
export class PeerDialer {
  private readonly kept = new Map<string, string | undefined>()
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly p2p: () => MeshP2P,
    private readonly onError: (err: unknown) => void,
    /** Most bytes read of a seed's `/health` (node/limits.ts `remoteBodyBytes`). */
    private readonly maxBodyBytes?: number,
    /** Seed addresses (`ws://host:port`) kept connected from `start()` on. */
    private readonly seeds: readonly string[] = [],
  ) {}

  /** Startable: keep the configured seed peers connected. */
  start(): void {
    this.stopped = false
    for (const seed of this.seeds) this.keep(seed)
  }

  /** Dial `addr` once; returns the PeerIds reached. Throws `UNREACHABLE` when none answers. */
  async connect(addr: string): Promise<string[]> {
    const opts = this.maxBodyBytes === undefined ? {} : { maxBytes: this.maxBodyBytes }
    const addrs = addr.startsWith('/') ? [addr] : await resolveSeedAddress(addr, opts)
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

  /** Keep a seed peer connected: dial now and whenever it is not connected. */
  keep(seed: string): void {
    if (this.stopped) return
    this.kept.set(seed, undefined)
    void this.tick()
    this.timer ??= setInterval(() => void this.tick(), RETRY_MS)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    const connected = new Set(
      this.p2p()
        .peers()
        .map((p) => p.peerId),
    )
    for (const [seed, peerId] of this.kept) {
      if (peerId !== undefined && connected.has(peerId)) continue
      try {
        const [reached] = await this.connect(seed)
        this.kept.set(seed, reached)
      } catch (err) {
        this.onError(err)
      }
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
