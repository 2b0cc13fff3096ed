/**
 * How far V8 lets the old generation grow past what the last full garbage
 * collection found live before it collects again (issue 13: an idle node at
 * most 100 MB RSS, at most 200 MB after 60 s of sends; decision 0056).
 *
 * Left to itself V8 picks a factor from its collection and allocation speeds,
 * up to 4 on a machine with memory to spare: under sends, a node with about
 * 27 MB live grew its old generation to about 107 MB of mostly garbage before
 * each full collection, and read 214–217 MB RSS right after 30 s of sends.
 * A fixed factor of 1.8 held it at 187–188 MB after 60 s; 1.4 went lower
 * (176–177 MB) but its more frequent full collections cost about 10 % more
 * CPU per send and pushed the p99 latency to 3 × the mean. As a share of the
 * live heap, the headroom grows with the registry, so the collection work per
 * request stays about the same at any size.
 */
import { setFlagsFromString } from 'node:v8'

/** The old generation may grow this many percent past its live size before a full collection. */
export const HEAP_GROWING_PERCENT = 80

/** Set `HEAP_GROWING_PERCENT` for this process (V8 reads it at each full collection). */
export function boundHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
