/**
 * Which gossiped checkpoints (`chk`) a node takes (docs/audit.md, "Checkpoints
 * on the mesh"). A node publishes its own checkpoints and gossip relays keep
 * their publisher, so a checkpoint whose publisher's key is not its origin's
 * current key is another peer republishing it (or a forgery, which acceptance
 * refuses and charges as before): it is not stored twice or relayed. Only
 * known nodes' checkpoints are taken: an origin that hosts an agent this node
 * stores or whose log this node witnesses (it holds a note the origin signed,
 * at most `limits.witness.origins` of them; review 119, F1), or the connected
 * peer itself (a key costs nothing, so a checkpoint of a throwaway key relayed
 * from afar is not kept; found by the second attack review). And an origin's
 * checkpoints are taken at most `CHECKPOINTS_PER_MINUTE` a minute, counted
 * when one is taken (replays of old ones spend nothing): every one taken is
 * stored and audited.
 */
import { peerKeyB64, publicKeyFromIdentifier, toB64, type ChkEnvelope } from '../core/index.js'

/** Checkpoints taken from one origin in a minute (an honest busy node signs up to about 13). */
export const CHECKPOINTS_PER_MINUTE = 20

/** Origins whose minute is remembered (oldest forgotten first; node/cache-bounds.ts). */
export const CHECKPOINT_GATE_ORIGINS = 4096

/** What the gate reads. */
export interface CheckpointGateComponents {
  /** The current key (b64) of a DID by its key event log, if one is stored. */
  readonly currentKey: (did: string) => string | undefined
  /** True when a DID is known: it hosts an agent this node stores, or this node witnesses its log. */
  readonly hostsAgents: (did: string) => boolean
  readonly clock: () => number
}

/**
 * The gate's answer: take it (ingest as usual), someone else's to
 * republish, an origin this node does not know, or past its origin's rate.
 */
export type CheckpointAdmission = 'take' | 'foreign' | 'unknown' | 'over-rate'

/** The gate of `meshsig/v1/audit`. */
export class CheckpointGate {
  private readonly minutes = new Map<string, { start: number; taken: number }>()

  constructor(private readonly c: CheckpointGateComponents) {}

  /** Decide for `chk`, first published by the peer `publisher` and delivered by `via`. */
  admit(chk: ChkEnvelope, publisher: string, via: string): CheckpointAdmission {
    const key = peerKeyB64(publisher)
    if (key === undefined || key !== (this.c.currentKey(chk.origin) ?? keyOfDid(chk.origin))) return 'foreign'
    if (via !== publisher && !this.c.hostsAgents(chk.origin)) return 'unknown'
    const m = this.minutes.get(chk.origin)
    return m !== undefined && this.c.clock() - m.start < 60_000 && m.taken >= CHECKPOINTS_PER_MINUTE
      ? 'over-rate'
      : 'take'
  }

  /** Count a checkpoint of `origin` that was taken (stored as new). */
  taken(origin: string): void {
    const now = this.c.clock()
    const m = this.minutes.get(origin)
    if (m !== undefined && now - m.start < 60_000) {
      m.taken += 1
      return
    }
    this.minutes.delete(origin) // re-inserted last: the map stays in order of use
    if (this.minutes.size >= CHECKPOINT_GATE_ORIGINS) this.minutes.delete(this.minutes.keys().next().value!)
    this.minutes.set(origin, { start: now, taken: 1 })
  }
}

function keyOfDid(did: string): string | undefined {
  try {
    return toB64(publicKeyFromIdentifier(did))
  } catch {
    return undefined
  }
}
