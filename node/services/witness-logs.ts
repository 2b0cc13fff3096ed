/**
 * The logs this node witnesses (docs/audit.md, "Split views, rewrites and
 * evidence"; decision 0066): per origin one row `witness.state.<origin>` with
 * the latest checkpoint cosigned, the note the log signed it in (its own
 * signature line only), the log's binding, the cosignature given and when.
 * A log is held only once one of its checkpoints was cosigned, so frames of
 * throwaway keys store nothing. At most `limits.witness.origins` logs are
 * held; past it the log cosigned longest ago makes room for a new one, once
 * that was at least `limits.witness.idleOriginMs` ago, else the new log is
 * refused. Logs of nodes this node knows (controllers of agents it stores
 * whose own key event log it holds: a registration naming a DID is signed by
 * the agent, not the DID, decision 0079) go last, and a known node's new log may take the room of any log it does
 * not know, idle or not: a flood of throwaway logs that keep asking cannot
 * keep a known node out (decision 0066, addendum). The log key held for an
 * origin is not replaced while its row is in use under the same identity
 * key: once the row has been idle `idleOriginMs` it is forgotten, and a new
 * log key of its DID is taken (a node whose `log.key` was lost comes back).
 * A held binding signed by a key the DID has since rotated away from gives
 * way at once to one its current key signed (decision 0084: a rotation makes
 * new log keys); the row's checkpoint stays, so the log must still prove
 * consistency with what was cosigned.
 */
import { boundByRetiredKey, storedBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import type { WitnessedState } from '../core/witness.js'
import type { WitnessLimits } from '../limits.js'
import type { MiscRepo, Store } from '../store/index.js'

/** What the witness holds of one log. */
export interface HeldLog extends WitnessedState {
  /** The log's binding (absent in rows written before decision 0066: then `witness.binding.<origin>`). */
  readonly binding?: LogKeyBinding
  /** The cosignature line given for this checkpoint (a repeat of the request gets it again). */
  readonly cosignature?: string
  /** When it was cosigned (ms; absent in older rows: the first to make room). */
  readonly at?: number
}

const PREFIX = 'witness.state.'

/** What the witness table holds of `origin`, read from the store's metadata (ingest reads it too). */
export function heldLog(misc: Pick<MiscRepo, 'meta'>, origin: string): HeldLog | undefined {
  const text = misc.meta(`${PREFIX}${origin}`)
  return text === undefined ? undefined : (JSON.parse(text) as HeldLog)
}

/** The binding held for a witnessed log, as stored (not checked under the DID's current key). */
export function heldLogBinding(misc: Pick<MiscRepo, 'meta'>, origin: string): LogKeyBinding | undefined {
  const held = heldLog(misc, origin)
  if (held === undefined) return undefined
  if (held.binding !== undefined) return held.binding
  const legacy = misc.meta(`witness.binding.${origin}`)
  return legacy === undefined ? undefined : storedBinding(legacy)
}

/** The table of witnessed logs. */
export class WitnessLogs {
  /** While full, no log can make room before this time (ms): no need to look again until then. */
  private noRoomUntil = 0

  constructor(
    private readonly store: Store,
    private readonly limits: WitnessLimits,
    private readonly clock: () => number,
    private readonly knows: (did: string) => boolean = () => false,
  ) {}

  /** What is held of `origin`, if anything. */
  held(origin: string): HeldLog | undefined {
    return heldLog(this.store.misc, origin)
  }

  /** The binding held for a log this node witnesses (as stored: not checked under the DID's current key). */
  heldBinding(origin: string): LogKeyBinding | undefined {
    return heldLogBinding(this.store.misc, origin)
  }

  /**
   * True when `b` (checked by the caller under its DID's current key) names
   * another log key than the one held for its DID: a log key is not replaced
   * while its row is in use. A held binding a rotated-out key of the DID
   * signed is no conflict (decision 0084): the row is kept, and the next
   * cosignature stores `b` with it. A row idle `idleOriginMs` or longer is
   * forgotten here, whoever signed its binding, as it could be to make room,
   * and the new key is no conflict.
   */
  conflicts(b: LogKeyBinding): boolean {
    const held = this.heldBinding(b.did)
    if (held === undefined || held.logKey === b.logKey) return false
    // idle first (review 122): a row bound by a retired key is forgotten once idle too, else a fork a thief got
    // cosigned with the then-current key would bind the owner's new log at this witness for good
    if (this.clock() - (this.held(b.did)?.at ?? 0) >= this.limits.idleOriginMs) {
      this.store.misc.deleteMeta(`${PREFIX}${b.did}`)
      return false
    }
    return !boundByRetiredKey(held, this.store.keyEvents.state(b.did))
  }

  /** Keep `log` for `origin` (room made first for a new origin). */
  keep(origin: string, log: HeldLog): void {
    this.store.misc.setMetaValue(`${PREFIX}${origin}`, JSON.stringify(log))
  }

  /** How many logs are held. */
  count(): number {
    return this.store.misc.countMeta(PREFIX)
  }

  /**
   * Room for one more log, of `origin`: true when under the bound, or once
   * enough logs were forgotten to bring the table under it — those idle
   * `idleOriginMs` or longer, logs of unknown nodes first, each group the
   * one cosigned longest ago first; for a known `origin` also any log of an
   * unknown node. False when not enough can go.
   */
  makeRoom(origin: string): boolean {
    const over = this.count() - this.limits.origins + 1
    if (over <= 0) return true
    const now = this.clock()
    const known = this.knows(origin)
    if (!known && now < this.noRoomUntil) return false
    const rows = this.store.misc.metaWithPrefix(PREFIX).map(({ key, value }) => ({
      key,
      at: (JSON.parse(value) as HeldLog).at ?? 0,
      known: this.knows(key.slice(PREFIX.length)),
    }))
    const idle = (l: { at: number }): boolean => now - l.at >= this.limits.idleOriginMs
    const order = [...rows].sort((x, y) => Number(x.known) - Number(y.known) || x.at - y.at)
    const go = order.filter((l) => idle(l) || (known && !l.known)).slice(0, over)
    if (go.length < over) {
      // when the next look can succeed: the table held by age, the youngest of those that would have to go
      const next = rows.sort((x, y) => x.at - y.at)[over - 1]
      if (!known) this.noRoomUntil = next === undefined ? 0 : next.at + this.limits.idleOriginMs
      return false
    }
    for (const l of go) this.store.misc.deleteMeta(l.key)
    return true
  }

  /** A refusal's reason: the table is full and no log in it is idle long enough. */
  fullReason(): string {
    const { origins, idleOriginMs } = this.limits
    return (
      `this witness holds its ${origins} logs (limits.witness.origins) and none was cosigned ` +
      `${Math.round(idleOriginMs / 1000)} s ago or longer (limits.witness.idleOriginMs): it takes no new log now`
    )
  }
}
