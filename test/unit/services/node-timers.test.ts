/**
 * The node's periodic work, owned by the services it belongs to (issue 10):
 * retention prunes the replay cache past twice the freshness window and
 * relayed traffic past its retention; the checkpoint scheduler signs only
 * when the log grew. Both stop for good. No network, no disk.
 */
import { describe, expect, it } from 'vitest'
import { CheckpointScheduler } from '../../../node/audit/checkpoint-scheduler.js'
import { MessageRetention } from '../../../node/services/message-retention.js'
import { trackTimers } from '../../helpers/timer-registry.js'

const NOW = 10_000_000
const turns = (n: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, n))

function retention(retentionMs: number, failReplay = false) {
  const calls = { replay: [] as number[], foreign: [] as number[] }
  const errors: unknown[] = []
  const r = new MessageRetention({
    messages: {
      pruneReplay: (before) => {
        calls.replay.push(before)
        if (failReplay) throw new Error('disk full')
        return 0
      },
      pruneForeign: (before) => {
        calls.foreign.push(before)
        return 0
      },
    },
    clock: () => NOW,
    onError: (e) => errors.push(e),
    maxSkewMs: 1_000,
    replayPruneIntervalMs: 5,
    relay: { retentionMs, pruneIntervalMs: 5 },
  })
  return { r, calls, errors }
}

describe('MessageRetention', () => {
  it('forgets nonces older than twice the freshness window and relayed traffic past its retention', async () => {
    const { r, calls } = retention(60_000)
    r.start()
    while (calls.replay.length === 0 || calls.foreign.length === 0) await turns(2)
    r.stop()
    expect(new Set(calls.replay)).toEqual(new Set([NOW - 2_000]))
    expect(new Set(calls.foreign)).toEqual(new Set([NOW - 60_000]))
  })

  it('keeps relayed traffic at least as long as the replay window, even with a shorter retention', async () => {
    const { r, calls } = retention(500)
    r.start()
    while (calls.foreign.length === 0) await turns(2)
    r.stop()
    expect(calls.foreign[0]).toBe(NOW - 2_000)
  })

  it('reports a failing prune and keeps going; after stop nothing runs and no timer is left', async () => {
    const timers = trackTimers()
    try {
      const { r, calls, errors } = retention(60_000, true)
      r.start()
      while (calls.replay.length < 2) await turns(2)
      r.stop()
      r.stop()
      const after = calls.replay.length
      await turns(20)
      expect(calls.replay.length).toBe(after)
      expect((errors[0] as Error).message).toBe('disk full')
      expect(timers.live().filter((t) => t.kind === 'interval')).toEqual([])
    } finally {
      timers.uninstall()
    }
  })
})

describe('CheckpointScheduler', () => {
  it('signs only while the log has grown, and reports a failed signature', async () => {
    let stale = false
    let signed = 0
    let ticks = 0
    const errors: unknown[] = []
    const s = new CheckpointScheduler({
      stale: () => {
        ticks++
        return stale
      },
      checkpoint: async () => {
        signed++
        throw new Error('key gone')
      },
      onError: (e) => errors.push(e),
      intervalMs: 5,
    })
    s.start()
    while (ticks < 3) await turns(2)
    expect(signed).toBe(0)
    stale = true
    while (signed === 0 || errors.length === 0) await turns(2)
    s.stop()
    const after = signed
    await turns(20)
    expect(signed).toBe(after)
    expect((errors[0] as Error).message).toBe('key gone')
  })
})
