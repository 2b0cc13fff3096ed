/**
 * WAL checkpoints off the event loop (decision 0030). SQLite copies the WAL
 * back into the database file inside the COMMIT that crosses
 * `wal_autocheckpoint`, on the event loop: under a stream of sends that was
 * about a sixth of the event loop's time. A worker thread with its own
 * connection to the same file runs `wal_checkpoint(PASSIVE)` instead, soon
 * after group commits (`nudge`): it never waits for, nor blocks, the
 * writer. Once it has copied every frame, the writer's next transaction
 * starts the WAL over from its beginning, so the file stays small and the
 * event loop's own checkpoint (still armed at `WAL_CHECKPOINT_PAGES`) finds
 * almost nothing left to copy. Durability does not depend on it: every
 * acknowledged write is in the synced WAL before its answer.
 *
 * The thread starts with the first nudge and stops after `IDLE_STOP_MS`
 * without one; if it fails, checkpoints stay on the event loop, as before.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** A quiet checkpointer thread stops after this long without a commit. */
export const CHECKPOINT_IDLE_STOP_MS = 30_000

/** Least time between the starts of two checkpoints under load. */
export const CHECKPOINT_INTERVAL_MS = 20

/** How long `close` waits for the thread to close its connection. */
const CLOSE_WAIT_MS = 2_000

/**
 * The thread: plain CommonJS run with `eval` (as the signing workers, services/worker-source.ts),
 * requiring better-sqlite3 by the absolute path resolved here. `flag[0]` turns 1 once its
 * connection is closed, or the thread ends for any reason.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const flag = new Int32Array(workerData.closed)
process.on('exit', () => {
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
})
const Database = require(workerData.driver)
const db = new Database(workerData.path, { fileMustExist: true })
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    db.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage('done')
  } else if (m === 'close') {
    db.close()
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    parentPort.close()
  }
})
`

/** Checkpoints the WAL of one database file on a thread of its own. */
export class Checkpointer {
  private worker: Worker | undefined
  private closedFlag: Int32Array | undefined
  private running = false
  private again = false
  private failed = false
  private stopped = false
  private lastStart = 0
  private lastNudge = 0
  private timer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined

  /** `path`: the database file (a connection to it exists and has migrated it). */
  constructor(
    private readonly path: string,
    private readonly idleStopMs = CHECKPOINT_IDLE_STOP_MS,
  ) {}

  /** True while the thread is up. */
  get active(): boolean {
    return this.worker !== undefined
  }

  /** A transaction committed: copy the WAL into the database soon. */
  nudge(): void {
    if (this.failed || this.stopped) return
    this.lastNudge = Date.now()
    if (this.running || this.timer !== undefined) {
      this.again = true
      return
    }
    const wait = this.lastStart + CHECKPOINT_INTERVAL_MS - this.lastNudge
    if (wait > 0) {
      this.timer = setTimeout(() => this.run(), wait)
      this.timer.unref()
    } else this.run()
  }

  /**
   * Close the thread's connection and stop it; later nudges do nothing. The
   * store closes its own connection next, so this waits (up to 2 s) for the
   * thread's to be closed: the writer's close is then the last one and
   * removes the WAL.
   */
  close(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.timer = this.idleTimer = undefined
    this.stopThread(true)
  }

  private run(): void {
    this.timer = undefined
    this.again = false
    const worker = this.worker ?? this.startThread()
    if (worker === undefined) return
    this.running = true
    this.lastStart = Date.now()
    worker.postMessage('checkpoint')
  }

  private startThread(): Worker | undefined {
    try {
      const closed = new SharedArrayBuffer(4)
      const driver = createRequire(import.meta.url).resolve('better-sqlite3')
      const worker = new Worker(SOURCE, { eval: true, workerData: { path: this.path, driver, closed } })
      worker.unref()
      worker.on('message', () => this.done())
      worker.on('error', () => this.fail(worker))
      worker.on('exit', () => this.fail(worker))
      this.worker = worker
      this.closedFlag = new Int32Array(closed)
      this.armIdleStop(this.idleStopMs)
      return worker
    } catch {
      this.failed = true
      return undefined
    }
  }

  private done(): void {
    this.running = false
    if (this.again && !this.stopped) this.nudge()
  }

  /** The thread ended without being asked: checkpoints stay with SQLite's own, on the event loop. */
  private fail(worker: Worker): void {
    if (this.worker !== worker) return
    this.worker = undefined
    this.running = false
    if (!this.stopped) this.failed = true
  }

  private armIdleStop(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      const quiet = Date.now() - this.lastNudge
      if (quiet < this.idleStopMs || this.running) return this.armIdleStop(Math.max(this.idleStopMs - quiet, 100))
      this.stopThread(false)
    }, ms)
    this.idleTimer.unref()
  }

  /**
   * Ask the thread to close its connection and end. Only the store's close
   * waits for it (`wait`): an idle stop must never hold the event loop, which
   * may serve other nodes of the same process.
   */
  private stopThread(wait: boolean): void {
    const worker = this.worker
    const flag = this.closedFlag
    this.worker = this.closedFlag = undefined
    this.running = false
    if (worker === undefined || flag === undefined) return
    worker.postMessage('close') // the thread ends once its connection is closed (its port closes)
    if (!wait) return
    Atomics.wait(flag, 0, 0, CLOSE_WAIT_MS)
    void worker.terminate()
  }
}
