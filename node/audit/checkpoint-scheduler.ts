/**
 * The periodic audit checkpoint (docs/audit.md, checkpoints): every
 * `intervalMs` while started, the node signs a checkpoint when its log grew
 * since the latest one. The timer lives here, in the audit side that owns
 * checkpoints, not in the node's composition.
 */
import { intervalTask, type Startable } from '../lifecycle.js'

/** Default interval of periodic checkpoints (ms). */
export const CHECKPOINT_INTERVAL_MS = 60_000

/** What the scheduler needs: whether the log grew, and how to sign (and announce) a checkpoint. */
export interface CheckpointSchedulerComponents {
  /** True when the log has entries the latest checkpoint does not cover. */
  readonly stale: () => boolean
  /** Sign a checkpoint now (the node announces and gossips it). */
  readonly checkpoint: () => Promise<unknown>
  readonly onError: (err: unknown) => void
  readonly intervalMs?: number
}

/** Signs a checkpoint every interval when the log grew. */
export class CheckpointScheduler implements Startable {
  private readonly task: Startable

  constructor(c: CheckpointSchedulerComponents) {
    this.task = intervalTask(
      c.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      () => {
        if (c.stale()) void c.checkpoint().catch(c.onError)
      },
      c.onError,
    )
  }

  /** Start the periodic checkpoint. */
  start(): void {
    this.task.start()
  }

  /** Stop it (idempotent). */
  stop(): void {
    this.task.stop()
  }
}
