/**
 * Wiring of the node's log and witness keys (docs/audit.md): the keys from
 * `$MESHSIG_HOME` (or, for a node without a home, fresh ones for this
 * process), the binding statement signed by the node's current identity key,
 * the checkpoint anchor file, and the alarm when the log contradicts it.
 * When the identity key rotates, new log and witness keys are made before
 * anything is bound or signed with them (decision 0084): a rotated-out
 * identity key leaves no log key the owner's binding vouches for.
 */
import { createLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { generateKeyPair, toB64, type KeyPair } from '../core/index.js'
import { logKeysFor, readCheckpointAnchor, writeCheckpointAnchor, type LogKeyPairs } from '../identity/log-keys.js'
import type { AnchorFile } from '../audit/checkpoint-notes.js'
import type { NodeEvents } from '../events.js'

/** The log side of a node's audit keys. */
export interface LogKeys {
  /** The log key of the node's current identity key (new after a rotation, decision 0084). */
  log(): KeyPair
  /** The witness key of the node's current identity key. */
  witness(): KeyPair
  /** The binding under the node's current identity key. */
  binding(): LogKeyBinding
  /** The anchor file in the home, when the node has one. */
  readonly anchor: AnchorFile | undefined
  /** Log loudly and emit `audit:inconsistent` for the node's own log. */
  alarm(message: string, data: Record<string, unknown>): void
}

/** The log and witness keys made under one identity key (`by`, b64), and their binding once asked for. */
interface MadeKeys {
  readonly by: string
  readonly pairs: LogKeyPairs
  binding?: LogKeyBinding
}

/**
 * Build the node's log keys, binding and anchor. Each read first checks the
 * identity key: after a rotation the keys are made anew (`logKeysFor`, in the
 * home) before the new binding; a failure to write them throws, so nothing is
 * bound or signed until they are in place (fail closed).
 */
export function logKeys(opts: {
  home: string | undefined
  did: string
  identity: () => KeyPair
  /** True when the identity's key log has a rotation (decision 0084: a home from before it makes new log keys). */
  rotated?: () => boolean
  clock: () => number
  events: NodeEvents
}): LogKeys {
  const home = opts.home
  const make = (id: KeyPair): LogKeyPairs =>
    home
      ? logKeysFor(home, id.publicKey, { rotated: opts.rotated?.() === true })
      : { log: generateKeyPair(), witness: generateKeyPair() }
  // the keys and their binding under the identity key `by` (b64), all made anew when it rotates
  let made: MadeKeys | undefined
  const current = (): { id: KeyPair; made: MadeKeys } => {
    const id = opts.identity()
    const by = toB64(id.publicKey)
    if (made?.by !== by) made = { by, pairs: make(id) }
    return { id, made }
  }
  current() // the keys are made (or read) at start, before any use
  return {
    log: () => current().made.pairs.log,
    witness: () => current().made.pairs.witness,
    binding: () => {
      const { id, made: m } = current()
      m.binding ??= createLogKeyBinding(opts.did, m.pairs.log.publicKey, m.pairs.witness.publicKey, opts.clock(), id)
      return m.binding
    },
    anchor: home ? { read: () => readCheckpointAnchor(home), write: (a) => writeCheckpointAnchor(home, a) } : undefined,
    alarm: (message, data) => {
      console.error(`[meshsig] AUDIT LOG INCONSISTENT: ${message}; refusing to sign checkpoints`)
      opts.events.emit('audit:inconsistent', { origin: opts.did, local: true, message, ...data })
    },
  }
}
