/**
 * One start/stop shape for every part of a node that holds timers, protocols,
 * sockets, threads or files (the shape of js-libp2p's `Startable`), and the
 * two helpers that run a list of them: start in order, stop in reverse.
 *
 * A failed start stops the part that failed (it may have started half: one
 * listener of two) and then the parts already started, in reverse order, and
 * rethrows the ORIGINAL error unchanged: its MeshsigError code (or the
 * EADDRINUSE of a taken port, which `meshsig start` turns into one line) is
 * what callers and tests check, so it is not wrapped. Errors while stopping
 * are logged and never stop the remaining parts from stopping.
 */
import type { Logger } from './logger.js'

/** A part with a lifecycle: `start` acquires what it holds, `stop` releases it (and is safe to call twice). */
export interface Startable {
  start(): void | Promise<void>
  stop(): void | Promise<void>
}

/** A startable with the name its log lines use. */
export interface NamedStartable {
  readonly name: string
  readonly part: Startable
}

/** A named startable from a start and a stop function (for steps that are not a service of their own). */
export function step(
  name: string,
  start: () => void | Promise<void>,
  stop: () => void | Promise<void>,
): NamedStartable {
  return { name, part: { start, stop } }
}

/** A startable that calls `run` every `everyMs` while started (unref'd; a throw is reported to `onError`). */
export function intervalTask(everyMs: number, run: () => void, onError: (err: unknown) => void): Startable {
  let timer: NodeJS.Timeout | undefined
  return {
    start: () => {
      if (timer !== undefined) return
      timer = setInterval(() => {
        try {
          run()
        } catch (err) {
          onError(err)
        }
      }, everyMs)
      timer.unref()
    },
    stop: () => {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
  }
}

/**
 * Start `parts` in order. When one throws, that part and then the parts
 * started before it are stopped, in reverse order (their stop errors logged),
 * and the original error is rethrown. Returns the parts started (all of them).
 */
export async function startAll(parts: readonly NamedStartable[], log: Logger): Promise<readonly NamedStartable[]> {
  const started: NamedStartable[] = []
  for (const p of parts) {
    try {
      await p.part.start()
    } catch (err) {
      log.error('start failed; stopping what had started', err, { part: p.name, started: started.length })
      await stopAll([...started, p], log)
      throw err
    }
    started.push(p)
  }
  return started
}

/** Stop `parts` in reverse order; a part that throws is logged and the rest still stop. */
export async function stopAll(parts: readonly NamedStartable[], log: Logger): Promise<void> {
  for (const p of [...parts].reverse()) {
    try {
      await p.part.stop()
    } catch (err) {
      log.warn('stop failed', { part: p.name, error: err instanceof Error ? err.message : String(err) })
    }
  }
}
