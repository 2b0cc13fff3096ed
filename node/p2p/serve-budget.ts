/**
 * What peers may have served by `/meshsig/sync/1.0.0` (docs/protocol.md §9,
 * "Budgets"): at most `items` answer items per window and at most
 * `SYNC_SERVE_CONCURRENT` answers at once, counted per peer, and, for sync,
 * at most `SYNC_SERVE_ITEMS_NODE` items per window over all peers together
 * (decision 0086). A request is charged what it asks for before any work
 * (`requestCost`), to its peer alone, so an answer that finds nothing is not
 * free and costs no other peer anything (review 122). A requester
 * past a budget gets an ERROR frame (`RATE_LIMITED`) and backs off as after
 * any failed round; a catch-up of a registry of 100,000 agents from nothing
 * fits in one window, and a requester runs one round at a time (two streams
 * at most), so only peers that ask for the registry again and again, in
 * parallel, to load the node meet the limits. The handshake, witness and
 * discovery services count each peer's requests with the same class.
 */
import { MeshsigError } from '../core/errors.js'
import { SYNC_SERVE_ITEMS_NODE, SYNC_SERVE_LIGHT_ITEMS, SYNC_SERVE_RESERVE } from '../limits.js'
import { decodeSyncRequest } from './sync.js'
import type { MeshP2PInit, SyncRequest } from './types.js'
import { WindowBudgets } from './window-budgets.js'

/** Answer items one peer may have served per window. */
export const SYNC_SERVE_ITEMS_PER_PEER = 250_000
/** Answers being served to one peer at once. */
export const SYNC_SERVE_CONCURRENT = 2
/** The window (ms). */
export const SYNC_SERVE_WINDOW_MS = 60_000
/** Most peers one budget counts at once; past it, windows that ended are forgotten first, then the oldest. */
export const MAX_TRACKED_PEERS = 4_096

/** A budget all peers share, per window (sync's: limits.ts). */
export interface SharedServe {
  /** Items served to all peers together per window. */
  readonly items: number
  /** The last share of `items` only light peers draw on. */
  readonly reserve: number
  /** A peer served fewer than this many items in its window is light. */
  readonly light: number
}

/** Per-peer counts of served items, one window each, and optionally a budget all peers share. */
export class ServeBudget {
  /** Items served per peer and window (the oldest window forgotten past `MAX_TRACKED_PEERS`). */
  private readonly used: WindowBudgets
  private readonly active = new Map<string, number>()
  /** The shared window: its start (ms) and the items served in it to all peers. */
  private readonly all = { start: -Infinity, items: 0 }

  /** `what` names the budget and what it counts in the `RATE_LIMITED` message (a handshake's: challenges). */
  constructor(
    private readonly items = SYNC_SERVE_ITEMS_PER_PEER,
    private readonly windowMs = SYNC_SERVE_WINDOW_MS,
    private readonly clock: () => number = Date.now,
    private readonly what = { budget: 'sync', unit: 'items' },
    private readonly shared?: SharedServe,
  ) {
    this.used = new WindowBudgets(windowMs, MAX_TRACKED_PEERS)
  }

  /** Count one item served to `peer`; throws `RATE_LIMITED`, counting nothing, once its or the shared budget is spent. */
  take(peer: string): void {
    const now = this.clock()
    if (!this.used.fits(peer, now, this.items, Infinity, 0)) throw this.spent()
    if (this.shared !== undefined) this.takeShared(this.shared, peer, now)
    this.used.charge(peer, now, 0)
  }

  /**
   * Charge `peer` the `count` lookups a request asks for, before any work
   * (`requestCost`): all or nothing, and in its own budget only. The shared
   * budget counts items served alone, so requests that find nothing cost
   * their asker and never the other peers (review 122, M1 and L1); they also
   * end its lightness.
   */
  charge(peer: string, count: number): void {
    const now = this.clock()
    if (this.used.used(peer, now) + count > this.items) throw this.spent()
    this.used.charge(peer, now, 0, count)
  }

  private spent(): MeshsigError {
    const { budget, unit } = this.what
    return new MeshsigError(
      'RATE_LIMITED',
      `${budget} budget of ${this.items} ${unit} per ${this.windowMs / 1000} s spent`,
    )
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

  /** Count one item in the shared window; past `items`, or past `items - reserve` for a peer that is not light, refuse. */
  private takeShared(shared: SharedServe, peer: string, now: number): void {
    if (now - this.all.start >= this.windowMs) Object.assign(this.all, { start: now, items: 0 })
    const light = this.used.used(peer, now) < shared.light
    if (this.all.items >= shared.items || (!light && this.all.items >= shared.items - shared.reserve)) {
      const { budget, unit } = this.what
      throw new MeshsigError(
        'RATE_LIMITED',
        `node-wide ${budget} budget of ${shared.items} ${unit} per ${this.windowMs / 1000} s spent${light ? '' : ' (the rest is kept for light peers)'}`,
      )
    }
    this.all.items++
  }
}

/** The budget the node serves sync by: per peer, and `SYNC_SERVE_ITEMS_NODE` over all peers (limits.ts). */
export function syncServeBudget(clock: () => number = Date.now): ServeBudget {
  const shared = { items: SYNC_SERVE_ITEMS_NODE, reserve: SYNC_SERVE_RESERVE, light: SYNC_SERVE_LIGHT_ITEMS }
  return new ServeBudget(SYNC_SERVE_ITEMS_PER_PEER, SYNC_SERVE_WINDOW_MS, clock, undefined, shared)
}

/**
 * What a sync request costs before its answer's items: one, and one more per
 * prefix an `ids` request names (duplicates too), since those answers may be
 * empty while the asker names up to 256 prefixes (review 120, M2). A `fp`
 * answer has one item per prefix asked, `items` and `page` answers are
 * bounded by `MAX_SYNC_IDS` and `MAX_SYNC_PAGE` lookups.
 */
export function requestCost(request: SyncRequest): number {
  return 1 + (request.kind === 'ids' ? request.prefixes.length : 0)
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

/**
 * The answer to one encoded sync request of `peer`, within `budget`: the
 * request is decoded and charged its `requestCost` to the peer before
 * `provider` does any work, then each item served is charged to the peer and
 * to the node-wide budget (docs/protocol.md §9, "Budgets").
 */
export function syncAnswer(
  budget: ServeBudget,
  peer: string,
  encoded: Uint8Array,
  provider: MeshP2PInit['syncProvider'],
): AsyncGenerator<Uint8Array> {
  return withinBudget(budget, peer, () => {
    const request = decodeSyncRequest(encoded)
    budget.charge(peer, requestCost(request))
    return provider(request, peer)
  })
}
