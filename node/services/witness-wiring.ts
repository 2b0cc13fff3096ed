/**
 * Wiring of the node's log and witness keys (docs/audit.md): the keys from
 * `$MESHSIG_HOME` (or, for a node without a home, fresh ones for this
 * process), the binding statement signed by the node's current identity key
 * (re-signed after a rotation), the checkpoint anchor file, and the alarm
 * when the log contradicts it.
 */
import { createLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { generateKeyPair, toB64, type KeyPair } from '../core/index.js'
import { ensureLogKeys, readCheckpointAnchor, writeCheckpointAnchor } from '../identity/log-keys.js'
import type { AnchorFile } from '../audit/checkpoint-notes.js'
import type { NodeEvents } from '../events.js'

/** The log side of a node's audit keys. */
export interface LogKeys {
  readonly log: KeyPair
  readonly witness: KeyPair
  /** The binding under the node's current identity key. */
  binding(): LogKeyBinding
  /** The anchor file in the home, when the node has one. */
  readonly anchor: AnchorFile | undefined
  /** Log loudly and emit `audit:inconsistent` for the node's own log. */
  alarm(message: string, data: Record<string, unknown>): void
}

/** Build the node's log keys, binding and anchor. */
export function logKeys(opts: {
  home: string | undefined
  did: string
  identity: () => KeyPair
  clock: () => number
  events: NodeEvents
}): LogKeys {
  const keys = opts.home ? ensureLogKeys(opts.home) : { log: generateKeyPair(), witness: generateKeyPair() }
  let cached: { by: string; binding: LogKeyBinding } | undefined
  const home = opts.home
  return {
    ...keys,
    binding: () => {
      const id = opts.identity()
      const by = toB64(id.publicKey)
      if (cached?.by !== by) {
        cached = {
          by,
          binding: createLogKeyBinding(opts.did, keys.log.publicKey, keys.witness.publicKey, opts.clock(), id),
        }
      }
      return cached.binding
    },
    anchor: home ? { read: () => readCheckpointAnchor(home), write: (a) => writeCheckpointAnchor(home, a) } : undefined,
    alarm: (message, data) => {
      console.error(`[meshsig] AUDIT LOG INCONSISTENT: ${message}; refusing to sign checkpoints`)
      opts.events.emit('audit:inconsistent', { origin: opts.did, local: true, message, ...data })
    },
  }
}
