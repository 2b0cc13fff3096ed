/**
 * The start/stop helpers of node/lifecycle.ts: start in order, stop in
 * reverse, a failed start stops what had started (the failing part too) and
 * rethrows the original error, stop errors are logged and do not stop the rest.
 */
import { describe, expect, it } from 'vitest'
import { intervalTask, startAll, step, stopAll, type NamedStartable } from '../../node/lifecycle.js'
import { createLogger } from '../../node/logger.js'
import { MeshsigError } from '../../node/core/index.js'
import { trackTimers } from '../helpers/timer-registry.js'

function recorder(): { calls: string[]; part(name: string, fail?: 'start' | 'stop'): NamedStartable } {
  const calls: string[] = []
  return {
    calls,
    part: (name, fail) =>
      step(
        name,
        async () => {
          calls.push(`start ${name}`)
          if (fail === 'start') throw new MeshsigError('UNREACHABLE', `${name} cannot start`)
        },
        () => {
          calls.push(`stop ${name}`)
          if (fail === 'stop') throw new Error(`${name} cannot stop`)
        },
      ),
  }
}

function memoryLog(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return { lines, log: createLogger({ level: 'debug', json: true, write: (l) => lines.push(l) }) }
}

describe('startAll / stopAll', () => {
  it('starts in order and stops in reverse order', async () => {
    const r = recorder()
    const { log } = memoryLog()
    const parts = [r.part('a'), r.part('b'), r.part('c')]
    const started = await startAll(parts, log)
    await stopAll(started, log)
    expect(r.calls).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
  })

  it('a failed start stops the failing part and those started before it, in reverse, and rethrows the original error', async () => {
    const r = recorder()
    const { lines, log } = memoryLog()
    const parts = [r.part('a'), r.part('b'), r.part('c', 'start'), r.part('d')]
    const err = await startAll(parts, log).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MeshsigError)
    expect((err as MeshsigError).code).toBe('UNREACHABLE')
    expect((err as MeshsigError).message).toBe('c cannot start')
    expect(r.calls).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
    expect(lines.some((l) => JSON.parse(l).part === 'c' && JSON.parse(l).level === 'error')).toBe(true)
  })

  it('a stop that throws is logged and the others still stop', async () => {
    const r = recorder()
    const { lines, log } = memoryLog()
    await stopAll([r.part('a'), r.part('b', 'stop'), r.part('c')], log)
    expect(r.calls).toEqual(['stop c', 'stop b', 'stop a'])
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn')
    expect(warn).toMatchObject({ part: 'b', error: 'b cannot stop' })
    expect(log.counts().get('meshsig')).toBe(1)
  })

  it('a rollback whose stop throws still rethrows the start error', async () => {
    const r = recorder()
    const { log } = memoryLog()
    const err = await startAll([r.part('a', 'stop'), r.part('b', 'start')], log).catch((e: unknown) => e)
    expect((err as Error).message).toBe('b cannot start')
    expect(r.calls).toEqual(['start a', 'start b', 'stop b', 'stop a'])
  })
})

describe('intervalTask', () => {
  it('runs while started, reports throws, and leaves no timer after stop', async () => {
    const errors: unknown[] = []
    let runs = 0
    const timers = trackTimers()
    const task = intervalTask(
      1,
      () => {
        runs++
        if (runs === 2) throw new Error('second run fails')
      },
      (e) => errors.push(e),
    )
    try {
      task.start()
      task.start() // a second start keeps one timer
      expect(timers.live().filter((t) => t.kind === 'interval')).toHaveLength(1)
      while (runs < 3) await new Promise((resolve) => setTimeout(resolve, 2))
      task.stop()
      task.stop()
      expect(timers.live().filter((t) => t.kind === 'interval')).toHaveLength(0)
    } finally {
      timers.uninstall()
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(['second run fails'])
  })
})
