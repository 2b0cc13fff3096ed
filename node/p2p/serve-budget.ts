/**
 * What one peer may have served by `/meshsig/sync/1.0.0` (docs/protocol.md
 * §9, "Budgets"): at most `items` answer items per window and at most
 * `SYNC_SERVE_CONCURRENT` answers at once, counted per peer. A requester past
 * either gets an ERROR frame (`RATE_LIMITED`) and backs off as after any
 * failed round; a catch-up of a registry of 100,000 agents from nothing fits
 * in one window, and a requester runs one round at a time (two streams at
 * most), so only a peer that asks for the registry again and again, in
 * parallel, to load the node meets the limits. The handshake service counts
 * each peer's challenges with the same class (§9, "Handshakes").
 */
import { MeshsigError } from '../core/errors.js'
import { WindowBudgets } from './window-budgets.js'

/** Answer items one peer may have served per window. */
export const SYNC_SERVE_ITEMS_PER_PEER = 250_000
/** Answers being served to one peer at once. */
export const SYNC_SERVE_CONCURRENT = 2
/** The window (ms). */
export const SYNC_SERVE_WINDOW_MS = 60_000
/** Most peers one budget counts at once; past it, windows that ended are forgotten first, then the oldest. */
export const MAX_TRACKED_PEERS = 4_096

/** Per-peer counts of served items, one window each. */
export class ServeBudget {
  /** Items served per peer and window (the oldest window forgotten past `MAX_TRACKED_PEERS`). */
  private readonly used: WindowBudgets
  private readonly active = new Map<string, number>()

  /** `what` names the budget and what it counts in the `RATE_LIMITED` message (a handshake's: challenges). */
  constructor(
    private readonly items = SYNC_SERVE_ITEMS_PER_PEER,
    private readonly windowMs = SYNC_SERVE_WINDOW_MS,
    private readonly clock: () => number = Date.now,
    private readonly what = { budget: 'sync', unit: 'items' },
  ) {
    this.used = new WindowBudgets(windowMs, MAX_TRACKED_PEERS)
  }

  /** Count one item served to `peer`; throws `RATE_LIMITED` once its window's budget is spent. */
  take(peer: string): void {
    const now = this.clock()
    if (!this.used.fits(peer, now, this.items, Infinity, 0)) {
      const { budget, unit } = this.what
      throw new MeshsigError(
        'RATE_LIMITED',
        `${budget} budget of ${this.items} ${unit} per ${this.windowMs / 1000} s spent`,
      )
    }
    this.used.charge(peer, now, 0)
  }

  /** Start an answer to `peer`; throws `RATE_LIMITED` when it has `SYNC_SERVE_CONCURRENT` running. Returns its end. */
  begin(peer: string): () => void {
    const running = this.active.get(peer) ?? 0
    if (running >= SYNC_SERVE_CONCURRENT) {
      throw new MeshsigError('RATE_LIMITED', `at most ${SYNC_SERVE_CONCURRENT} sync answers at once per peer`)
    }
    this.active.set(peer, running + 1)
    let ended = false
    return () => {
      if (ended) return
      ended = true
      const left = (this.active.get(peer) ?? 1) - 1
      if (left > 0) this.active.set(peer, left)
      else this.active.delete(peer)
    }
  }
}

/**
 * The answer `make` gives `peer`, within `budget`: refused with `RATE_LIMITED`
 * while the peer has its answers at once running, cut short once its items
 * of the window are spent.
 */
export async function* withinBudget(
  budget: ServeBudget,
  peer: string,
  make: () =>
    Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>> | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const end = budget.begin(peer)
  try {
    for await (const item of await make()) {
      budget.take(peer)
      yield item
    }
  } finally {
    end()
  }
}
