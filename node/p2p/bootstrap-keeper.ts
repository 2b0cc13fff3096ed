/**
 * Keeps the connections to bootstrap peers alive: dials each at start and
 * redials with exponential backoff (and jitter) whenever the connection drops
 * or a dial fails, for as long as the node runs. Unlike libp2p's own
 * reconnect queue it never gives up, so a peer that restarts after minutes is
 * found again. Bootstrap entries may be multiaddrs with `/p2p/` or seed URLs
 * (`ws://host:port`), resolved again on every attempt.
 */
import { BOOTSTRAP_MAX_BACKOFF_MS, BOOTSTRAP_MIN_BACKOFF_MS } from './constants.js'
import { asError } from './p2p-errors.js'
import { isSeedUrl, resolveSeedAddress } from './seed-address.js'

/** What the keeper needs from the node. */
export interface BootstrapKeeperComponents {
  /** Dial one multiaddr; resolves to the remote PeerId. */
  dial(addr: string): Promise<string>
  /** True while at least one connection to `peerId` is open. */
  isConnected(peerId: string): boolean
  /** Told of a peer that is now a bootstrap peer (e.g. to protect it from pruning). */
  onBootstrapPeer?(peerId: string): void
  /** Told once per outage when a bootstrap peer cannot be reached. */
  onError?(error: Error): void
}

/** Backoff bounds of the keeper. */
export interface BootstrapKeeperInit {
  /** Multiaddrs with `/p2p/` or seed URLs. */
  readonly entries: readonly string[]
  /** First retry delay (ms). */
  readonly minBackoffMs?: number
  /** Largest retry delay (ms). */
  readonly maxBackoffMs?: number
}

interface Entry {
  readonly source: string
  peerId: string | undefined
  failures: number
  timer: NodeJS.Timeout | undefined
  dialing: boolean
}

function peerIdOf(addr: string): string | undefined {
  const at = addr.lastIndexOf('/p2p/')
  return at === -1 ? undefined : addr.slice(at + '/p2p/'.length)
}

/** Redials bootstrap peers until stopped. */
export class BootstrapKeeper {
  private readonly entries: Entry[]
  private readonly components: BootstrapKeeperComponents
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  private running = false

  constructor(components: BootstrapKeeperComponents, init: BootstrapKeeperInit) {
    this.components = components
    this.minBackoffMs = init.minBackoffMs ?? BOOTSTRAP_MIN_BACKOFF_MS
    this.maxBackoffMs = init.maxBackoffMs ?? BOOTSTRAP_MAX_BACKOFF_MS
    this.entries = init.entries.map((source) => ({
      source,
      peerId: isSeedUrl(source) ? undefined : peerIdOf(source),
      failures: 0,
      timer: undefined,
      dialing: false,
    }))
  }

  /**
   * Dial every bootstrap entry now; resolves when each first attempt has
   * succeeded or failed (failures are retried in the background, never thrown).
   */
  async start(): Promise<void> {
    this.running = true
    await Promise.all(this.entries.map((entry) => this.attempt(entry)))
  }

  /** Cancel every pending redial. */
  stop(): void {
    this.running = false
    for (const entry of this.entries) {
      clearTimeout(entry.timer)
      entry.timer = undefined
    }
  }

  /** A peer disconnected: if it is a bootstrap peer, start redialling it. */
  peerDisconnected(peerId: string): void {
    for (const entry of this.entries) {
      if (entry.peerId === peerId) this.schedule(entry, this.minBackoffMs)
    }
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (!this.running || entry.timer !== undefined || entry.dialing) return
    entry.timer = setTimeout(() => {
      entry.timer = undefined
      void this.attempt(entry)
    }, delayMs)
    entry.timer.unref()
  }

  private backoff(failures: number): number {
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(failures - 1, 20))
    return Math.round(base * (0.8 + Math.random() * 0.4))
  }

  private async attempt(entry: Entry): Promise<void> {
    if (!this.running) return
    if (entry.peerId !== undefined && this.components.isConnected(entry.peerId)) {
      entry.failures = 0
      return
    }
    entry.dialing = true
    try {
      entry.peerId = await this.dialEntry(entry)
      entry.failures = 0
      this.components.onBootstrapPeer?.(entry.peerId)
    } catch (err) {
      entry.failures += 1
      if (entry.failures === 1) this.components.onError?.(asError(err))
    } finally {
      entry.dialing = false
    }
    const dropped = entry.peerId !== undefined && !this.components.isConnected(entry.peerId)
    if (entry.failures > 0 || dropped) this.schedule(entry, this.backoff(Math.max(1, entry.failures)))
  }

  private async dialEntry(entry: Entry): Promise<string> {
    const addrs = isSeedUrl(entry.source) ? await resolveSeedAddress(entry.source) : [entry.source]
    let lastError: unknown
    for (const addr of addrs) {
      try {
        return await this.components.dial(addr)
      } catch (err) {
        lastError = err
      }
    }
    throw lastError
  }
}
