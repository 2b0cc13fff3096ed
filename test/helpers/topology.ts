/** Seeded randomness and sparse topologies shared by mesh tests and benches (same seed, same graph). */

/** Deterministic PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A connected sparse graph on `count` vertices: a random tree plus `extra` random chords, as [higher, lower]. */
export function sparseEdges(count: number, extra: number, random: () => number): [number, number][] {
  const edges: [number, number][] = []
  const has = (a: number, b: number): boolean => edges.some(([x, y]) => (x === a && y === b) || (x === b && y === a))
  for (let i = 1; i < count; i++) edges.push([i, Math.floor(random() * i)])
  while (edges.length < count - 1 + extra) {
    const a = Math.floor(random() * count)
    const b = Math.floor(random() * count)
    if (a !== b && !has(a, b)) edges.push([Math.max(a, b), Math.min(a, b)])
  }
  return edges
}
