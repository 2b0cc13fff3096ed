/**
 * The source of a batch worker (worker-pool.ts): plain CommonJS run by
 * `new Worker(source, { eval: true })`. Every worker keeps a bounded cache of
 * the KeyObjects it builds (`keyOf(raw)`, oldest dropped) and answers each
 * batch `{id, count, buffer}` with `{id, out}`; a recipe gives only what its
 * jobs do.
 */

/** What the jobs of one kind of worker do, as JavaScript source pieces. */
export interface WorkerRecipe {
  /** Names the worker takes from node:crypto. */
  readonly crypto: string
  /** Most KeyObjects the worker keeps. */
  readonly keyCacheSize: number
  /** Expression building the KeyObject for `raw` (a Buffer), or null when it cannot be one. */
  readonly makeKey: string
  /** Bytes of output per job. */
  readonly outBytes: number
  /** Statements handling job `i`: read it from `buf` at offset `o` (advancing `o`), write its output into `out`. */
  readonly job: string
}

/** The worker source for `recipe`. */
export function batchWorkerSource(recipe: WorkerRecipe): string {
  return `
const { parentPort } = require('node:worker_threads')
const { ${recipe.crypto} } = require('node:crypto')
const keys = new Map()
function keyOf(raw) {
  const id = raw.toString('base64')
  let k = keys.get(id)
  if (k === undefined) {
    if (keys.size >= ${recipe.keyCacheSize}) keys.delete(keys.keys().next().value)
    k = ${recipe.makeKey}
    keys.set(id, k)
  }
  return k
}
parentPort.on('message', ({ id, count, buffer }) => {
  const buf = Buffer.from(buffer)
  const out = new Uint8Array(count * ${recipe.outBytes})
  let o = 0
  for (let i = 0; i < count; i++) {
${recipe.job}
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`
}
