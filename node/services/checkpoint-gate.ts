/**
 * Which gossiped checkpoints (`chk`) a node takes (docs/audit.md, "Checkpoints
 * on the mesh"). A node publishes its own checkpoints and gossip relays keep
 * their publisher, so a checkpoint whose publisher's key is not its origin's
 * current key is another peer republishing it (or a forgery, which acceptance
 * refuses and charges as before): it is not stored twice or relayed. And an
 * origin's checkpoints are taken at most `perMinute` a minute: an honest node
 * signs one at most every 10 s (`limits.onDemandCheckpointMs`), while every
 * one taken is stored and audited, so a node minting checkpoints could
 * otherwise grow every peer's log at gossip speed.
 */
import { publicKeyFromIdentifier, publicKeyFromPeerId, toB64, type ChkEnvelope } from '../core/index.js'

/** Checkpoints taken from one origin in a minute. */
export const CHECKPOINTS_PER_MINUTE = 6

/** Origins whose minute is remembered (oldest forgotten first; node/cache-bounds.ts). */
export const CHECKPOINT_GATE_ORIGINS = 4096

/** What the gate reads. */
export interface CheckpointGateComponents {
  /** The current key (b64) of a DID by its key event log, if one is stored. */
  readonly currentKey: (did: string) => string | undefined
  readonly clock: () => number
}

/** The gate's answer: take it (ingest as usual), someone else's to republish, or past its origin's rate. */
export type CheckpointAdmission = 'take' | 'foreign' | 'over-rate'

/** The gate of `meshsig/v1/audit`. */
export class CheckpointGate {
  private readonly minutes = new Map<string, { start: number; taken: number }>()

  constructor(private readonly c: CheckpointGateComponents) {}

  /** Decide for `chk`, first published by the peer `publisher`. */
  admit(chk: ChkEnvelope, publisher: string): CheckpointAdmission {
    const key = keyOfPeer(publisher)
    if (key === undefined || key !== (this.c.currentKey(chk.origin) ?? keyOfDid(chk.origin))) return 'foreign'
    const now = this.c.clock()
    const m = this.minutes.get(chk.origin)
    if (m === undefined || now - m.start >= 60_000) {
      this.minutes.delete(chk.origin) // re-inserted last: the map stays in order of use
      if (this.minutes.size >= CHECKPOINT_GATE_ORIGINS) this.minutes.delete(this.minutes.keys().next().value!)
      this.minutes.set(chk.origin, { start: now, taken: 1 })
      return 'take'
    }
    if (m.taken >= CHECKPOINTS_PER_MINUTE) return 'over-rate'
    m.taken += 1
    return 'take'
  }
}

function keyOfPeer(peerId: string): string | undefined {
  try {
    return toB64(publicKeyFromPeerId(peerId))
  } catch {
    return undefined
  }
}

function keyOfDid(did: string): string | undefined {
  try {
    return toB64(publicKeyFromIdentifier(did))
  } catch {
    return undefined
  }
}
