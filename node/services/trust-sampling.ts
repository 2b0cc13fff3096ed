/**
 * Trust over time from the node's own metrics (docs/api.md, `GET
 * /history/rates` and `GET /history/agents/:did`): while the node runs it
 * samples every agent's trust once a minute into the history report, which
 * keeps the last hour (`HISTORY_MINUTES` samples, bounded). Without it the
 * samples were taken only while a dashboard asked, so a dashboard opened
 * after an hour of traffic showed one point instead of the hour.
 */
import { intervalTask, type Startable } from '../lifecycle.js'

/** How often trust is sampled (ms): one sample per minute of the hour the history report keeps. */
export const TRUST_SAMPLE_MS = 60_000

/** What the sampler calls: the history report's trust series (taking a sample for the current minute). */
export interface TrustSampled {
  trustAverages(): unknown
}

/**
 * A startable that samples trust once at start and then every `everyMs`
 * (unref'd timer, stopped with the node); a failed sample goes to `onError`.
 */
export function trustSampling(
  history: () => TrustSampled,
  onError: (err: unknown) => void,
  everyMs = TRUST_SAMPLE_MS,
): Startable {
  const sample = (): void => void history().trustAverages()
  const task = intervalTask(everyMs, sample, onError)
  return {
    start: () => {
      try {
        sample()
      } catch (err) {
        onError(err)
      }
      task.start()
    },
    stop: () => task.stop(),
  }
}
