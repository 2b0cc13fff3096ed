/**
 * What one reconciliation round with a peer holds (docs/protocol.md §9): its
 * budget, the state of a pass, the descent it carries from pass to pass, and
 * the one check every served answer meets (registry items only). The passes
 * themselves run in sync-pass.ts.
 */
import type { Envelope } from '../core/index.js'
import { LEGACY, STALE, decodeItem, type ApplyCounts } from './sync.js'

/** Per-peer budget of one reconciliation round. */
export interface SyncBudget {
  /** Most items fetched. */
  readonly items: number
  /** Most application bytes moved. */
  readonly bytes: number
  /** Deadline of one pass (ms). */
  readonly ms: number
  /**
   * Longest time one round starts passes for (ms; default `ROUND_MS`): past
   * it, a round that still has more ends and its peer waits its turn again
   * later, so no peer holds the node-wide turn for long (docs/protocol.md §9).
   */
  readonly roundMs?: number
  /**
   * Slice of the node-wide turn one round holds while other rounds wait (ms;
   * default `SLICE_MS`, node/services/sync-turns.ts): past it, the round ends
   * its pass at the next exchange and queues again (docs/protocol.md §9).
   */
  readonly sliceMs?: number
}

/** Default longest time one round starts passes for (ms). */
export const ROUND_MS = 120_000

/** Default: 10,000 items, 16 MiB, 60 s per round and peer. */
export const DEFAULT_SYNC_BUDGET: SyncBudget = { items: 10_000, bytes: 16 * 1024 * 1024, ms: 60_000 }
/**
 * Junk items (forged, empty inceptions) one peer serves within `FORGERY_WINDOW_MS`, over all its passes,
 * rounds and connections, beyond which it is penalised (decision 0069).
 */
export const BAD_ITEMS_LIMIT = 32
/** How long a peer's junk items are counted together (ms): the longest backoff. */
export const FORGERY_WINDOW_MS = 3_600_000

/** A prefix to list, with the count of items the peer holds under it (from its fingerprint). */
export interface Leaf {
  readonly prefix: string
  readonly count: number
}

/**
 * A descent in progress, kept across the passes of one round: a pass that
 * ended on its slice of the turn, or on its budget, goes on from here, so a
 * descent longer than a slice still reaches its fetches (docs/protocol.md §9).
 */
export interface Descent {
  /** Prefixes whose children's fingerprints are still to be compared. */
  readonly frontier: string[]
  /** Prefixes still to be listed. */
  readonly leaves: Leaf[]
  /** Guessed short ids, not yet fetched, with their prefixes. */
  readonly guesses: Map<string, Leaf>
  /** Listed short ids this node lacks, not yet fetched. */
  missing: string[]
  /** A prefix held more than one list answer: a fresh descent follows this one. */
  truncated: boolean
}

/** What the passes of one round carry from one to the next: the descent in progress, if any. */
export interface Carry {
  descent?: Descent
}

/** A peer broke the protocol (answer shape, unrequested items, over its limits). */
export class PeerFault extends Error {}

/** The registry's own kinds of item (docs/protocol.md §9): sync carries nothing else. */
const REGISTRY_TYPES: ReadonlySet<string> = new Set(['icp', 'rot', 'rev', 'reg'])
/** Key events alone: what a peer's own key log (`self`) holds. */
export const KEY_EVENT_TYPES: ReadonlySet<string> = new Set(['icp', 'rot', 'rev'])

/**
 * The envelopes of a served answer; a peer that serves anything but
 * registry items (a message or checkpoint would pass no gossip gate or
 * quota here; found by the attack review of stop 32) is at fault. An item
 * stored before decision 0073 (an envelope once its base64 is respelt),
 * served by an honest peer, is skipped and counted as rejected, however many;
 * another JSON object that is no envelope under today's schema is skipped
 * too, and more than `BAD_ITEMS_LIMIT` of those in one answer is a fault.
 */
export function registryItems(
  frames: readonly Uint8Array[],
  counts: ApplyCounts,
  types: ReadonlySet<string> = REGISTRY_TYPES,
): Envelope[] {
  const items: Envelope[] = []
  let stale = 0
  let legacy = 0
  for (const f of frames) {
    const e = decodeItem(f)
    if (e === undefined) throw new PeerFault('an item is no envelope')
    if (e === LEGACY) {
      legacy++ // an honest holder's, however many (review 111)
      continue
    }
    if (e === STALE) {
      if (++stale > BAD_ITEMS_LIMIT) throw new PeerFault('too many items fail the envelope schema')
      continue
    }
    if (!types.has(e.type))
      throw new PeerFault(`an item is no ${types === REGISTRY_TYPES ? 'registry item' : 'key event'}`)
    items.push(e)
  }
  counts.rejected += stale + legacy
  return items
}

/** The state of one pass against a peer. */
export interface Round {
  readonly peer: string
  readonly peerKey: string | undefined
  readonly signal: AbortSignal
  bytes: number
  items: number
  readonly counts: ApplyCounts
  /** True when the round should end its pass before the next exchange (its slice of the turn is over); never if absent. */
  readonly due?: () => boolean
  /** Set when the pass ended early because its slice was over: it leaves more behind. */
  cut?: boolean
  /** What the passes of one round carry from one to the next. */
  readonly carry?: Carry
}
