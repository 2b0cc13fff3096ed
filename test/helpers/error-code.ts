import type { MeshsigError } from '../../node/core/errors.js'

/** The MeshsigError code `fn` throws, or undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return (err as MeshsigError).code
  }
}
