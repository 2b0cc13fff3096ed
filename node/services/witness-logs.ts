/**
 * The logs this node witnesses (docs/audit.md, "Split views, rewrites and
 * evidence"; decision 0066): per origin one row `witness.state.<origin>` with
 * the latest checkpoint cosigned, the note the log signed it in (its own
 * signature line only), the log's binding, the cosignature given and when.
 * A log is held only once one of its checkpoints was cosigned, so frames of
 * throwaway keys store nothing. At most `limits.witness.origins` logs are
 * held; past it the log cosigned longest ago makes room for a new one, once
 * that was at least `limits.witness.idleOriginMs` ago, else the new log is
 * refused. The log key held for an origin is never replaced.
 */
import type { LogKeyBinding } from '../core/log-key-binding.js'
import type { WitnessedState } from '../core/witness.js'
import type { WitnessLimits } from '../limits.js'
import type { Store } from '../store/index.js'

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

/** The table of witnessed logs. */
export class WitnessLogs {
  /** While full, no log can make room before this time (ms): no need to look again until then. */
  private noRoomUntil = 0

  constructor(
    private readonly store: Store,
    private readonly limits: WitnessLimits,
    private readonly clock: () => number,
  ) {}

  /** What is held of `origin`, if anything. */
  held(origin: string): HeldLog | undefined {
    const text = this.store.misc.meta(`${PREFIX}${origin}`)
    return text === undefined ? undefined : (JSON.parse(text) as HeldLog)
  }

  /** The binding held for a log this node witnesses (as stored: not checked under the DID's current key). */
  heldBinding(origin: string): LogKeyBinding | undefined {
    const held = this.held(origin)
    if (held === undefined) return undefined
    if (held.binding !== undefined) return held.binding
    const legacy = this.store.misc.meta(`witness.binding.${origin}`)
    return legacy === undefined ? undefined : (JSON.parse(legacy) as LogKeyBinding)
  }

  /** True when `b` names another log key than the one held for its DID: a log key is never replaced. */
  conflicts(b: LogKeyBinding): boolean {
    const held = this.heldBinding(b.did)
    return held !== undefined && held.logKey !== b.logKey
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
   * Room for one more log: true when under the bound, or once the logs
   * cosigned longest ago (and at least `idleOriginMs` ago) were forgotten to
   * bring the table under it; false when none is that old.
   */
  makeRoom(): boolean {
    const over = this.count() - this.limits.origins + 1
    if (over <= 0) return true
    const now = this.clock()
    if (now < this.noRoomUntil) return false
    const byAge = this.store.misc
      .metaWithPrefix(PREFIX)
      .map(({ key, value }) => ({ key, at: (JSON.parse(value) as HeldLog).at ?? 0 }))
      .sort((x, y) => x.at - y.at)
    const idle = byAge.slice(0, over).filter((l) => now - l.at >= this.limits.idleOriginMs)
    if (idle.length < over) {
      // the youngest of those that would have to go sets when the next look can succeed
      const next = byAge[over - 1]
      this.noRoomUntil = next === undefined ? 0 : next.at + this.limits.idleOriginMs
      return false
    }
    for (const l of idle) this.store.misc.deleteMeta(l.key)
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
